;; A module whose wudf_alloc (the allocator the host calls to copy a batch's
;; strings in) misbehaves in the way `set_mode` chooses; `len(utf8) ->
;; int32` is the UDF. Mode 0 is a correct bump allocator.
(module
  (memory (export "memory") 1)
  (global $mode (mut i32) (i32.const 0))
  (global $top (mut i32) (i32.const 1024))
  (func (export "set_mode") (param i32) (global.set $mode (local.get 0)))
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  ;; Mode 9: wudf_reset traps.
  (func (export "wudf_reset")
    (if (i32.eq (global.get $mode) (i32.const 9)) (then unreachable))
    (global.set $top (i32.const 1024)))
  (func (export "wudf_alloc") (param $n i32) (result i32)
    (local $p i32)
    (block $bump (block $zero (block $last (block $top4g (block $trap
    (block $spin (block $fits (block $past
      (br_table $bump $zero $last $top4g $trap $spin $fits $past $bump
        (global.get $mode)))
      ;; 7: one byte past the end of memory
      (return (i32.sub (i32.const 65537) (local.get $n))))
      ;; 6: exactly up to the end of memory
      (return (i32.sub (i32.const 65536) (local.get $n))))
      ;; 5: never returns
      (loop $l (br $l)))
      ;; 4: traps
      unreachable)
      ;; 3: the top of the 32-bit address space
      (return (i32.const -1)))
      ;; 2: the last byte of memory
      (return (i32.const 65535)))
      ;; 1: "no memory"
      (return (i32.const 0)))
    ;; 0: bump allocation
    (local.set $p (global.get $top))
    (global.set $top (i32.add (local.get $p) (local.get $n)))
    (local.get $p))
  (func (export "len") (param i32 i32) (result i32) (local.get 1)))
