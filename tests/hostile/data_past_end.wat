;; An active data segment that ends 4 bytes past the end of memory:
;; instantiation must trap before anything is written.
(module
  (memory (export "memory") 1)
  (data (i32.const 65530) "0123456789"))
