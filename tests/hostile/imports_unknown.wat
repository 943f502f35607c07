;; Imports from modules nobody defined: a function, a memory, a global and
;; the pre-2020 WASI module name.
(module
  (import "env" "system" (func (param i32) (result i32)))
  (import "env" "memory" (memory 1))
  (import "host" "secret" (global i64))
  (import "wasi_unstable" "fd_write"
    (func (param i32 i32 i32 i32) (result i32))))
