;; An active element segment that ends past the end of its table.
(module
  (table 2 funcref)
  (func $f)
  (elem (i32.const 1) func $f $f))
