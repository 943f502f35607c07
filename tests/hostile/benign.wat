;; The benign module of tests/test_hostile.c: `add`, and `bump`, a counter
;; that a long-lived instance keeps across every hostile case.
(module
  (global $n (mut i32) (i32.const 0))
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  (func (export "bump") (result i32)
    (global.set $n (i32.add (global.get $n) (i32.const 1)))
    (global.get $n)))
