;; proc_exit from _initialize: instantiation ends with the exit code.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (func (export "_initialize") (call $exit (i32.const 7))))
