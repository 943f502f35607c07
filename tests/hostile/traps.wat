;; Hostile UDFs that C cannot express (or that clang would rewrite), for
;; tests/test_hostile.c. `add` is the benign call made after each one.
(module
  (type $i_i (func (param i32) (result i32)))
  (type $v_v (func))
  (memory (export "memory") 1)
  (table $t 4 funcref)
  (elem (table $t) (i32.const 0) func $unary)
  (elem (table $t) (i32.const 2) func $bounce)
  (data $passive "abc")

  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))

  ;; raw(int64) -> utf8: the caller chooses where the string result points
  ;; (length << 32 | address) in this one-page memory.
  (func (export "raw") (param i64) (result i64) (local.get 0))
  (func $unary (param i32) (result i32)
    (i32.add (local.get 0) (i32.const 1)))

  ;; Float to integer: trapping conversions, and a saturating one that must
  ;; not trap.
  (func (export "f32_to_i32") (param f32) (result i32)
    (i32.trunc_f32_s (local.get 0)))
  (func (export "f64_to_u64") (param f64) (result i64)
    (i64.trunc_f64_u (local.get 0)))
  (func (export "f64_to_i32") (param f64) (result i32)
    (i32.trunc_f64_s (local.get 0)))
  (func (export "f64_to_i32_sat") (param f64) (result i32)
    (i32.trunc_sat_f64_s (local.get 0)))

  ;; INT64_MIN / -1 and remainders.
  (func (export "div64") (param i64 i64) (result i64)
    (i64.div_s (local.get 0) (local.get 1)))
  (func (export "rem_u") (param i32 i32) (result i32)
    (i32.rem_u (local.get 0) (local.get 1)))

  ;; The farthest addresses a 32-bit access can form: address + offset up to
  ;; 2 * (2^32 - 1), plus the access size.
  (func (export "load_far") (param i32) (result i64)
    (i64.load offset=0xffffffff (local.get 0)))
  (func (export "store_far") (param i32)
    (i64.store offset=0xfffffff8 (local.get 0) (i64.const -1)))
  (func (export "load8_at") (param i32) (result i32)
    (i32.load8_u (local.get 0)))

  ;; Bulk memory with hostile ranges: (address, length).
  (func (export "fill") (param i32 i32)
    (memory.fill (local.get 0) (i32.const 0x41) (local.get 1)))
  (func (export "copy_to_0") (param i32 i32)
    (memory.copy (i32.const 0) (local.get 0) (local.get 1)))
  (func (export "init_at") (param i32 i32)
    (memory.init $passive (local.get 0) (i32.const 0) (local.get 1)))

  (func (export "grow") (param i32) (result i32)
    (memory.grow (local.get 0)))
  (func (export "table_grow") (param i32) (result i32)
    (table.grow $t (ref.null func) (local.get 0)))

  ;; call_indirect: slot 0 holds $unary, (i32) -> i32.
  (func (export "call_as_void")
    (call_indirect $t (type $v_v) (i32.const 0)))
  (func (export "call_slot") (param i32) (result i32)
    (call_indirect $t (type $i_i) (i32.const 41) (local.get 0)))

  ;; Unbounded recursion through the table (slot 2): no direct call for a
  ;; compiler to turn into a loop.
  (func $bounce (param i32) (result i32)
    (i32.add (i32.const 1)
      (call_indirect $t (type $i_i)
        (i32.add (local.get 0) (i32.const 1)) (i32.const 2))))
  (func (export "recurse_indirect") (param i32) (result i32)
    (call $bounce (local.get 0)))

  ;; An infinite loop that calls a function on every turn.
  (func $nop)
  (func (export "spin_calls")
    (loop $l (call $nop) (br $l)))

  ;; unreachable deep inside blocks, a loop and a call.
  (func $deep (param i32)
    (block (block (block
      (loop $l
        (br_if 3 (i32.eqz (local.get 0)))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (if (i32.eq (local.get 0) (i32.const 7)) (then unreachable))
        (br $l))))))
  (func (export "unreachable_deep") (param i32) (call $deep (local.get 0)))
)
