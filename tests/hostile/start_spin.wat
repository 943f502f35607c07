;; The start function never returns: instantiation must stop at the time
;; limit.
(module
  (func $s (loop $l (br $l)))
  (start $s)
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1))))
