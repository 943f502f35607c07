;; A WASI reactor whose _initialize (where C constructors run) never
;; returns: instantiation must stop at the time limit.
(module
  (func (export "_initialize") (loop $l (br $l)))
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1))))
