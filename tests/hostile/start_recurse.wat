;; The start function recurses without end: instantiation must fail with
;; the stack exhausted.
(module
  (func $r (param i32) (result i32)
    (i32.add (i32.const 1) (call $r (i32.add (local.get 0) (i32.const 1)))))
  (func $s (drop (call $r (i32.const 0))))
  (start $s))
