/* The string helpers of include/wudf_guest.h, compiled natively (the same
 * source compiles to WebAssembly; the batch tests run them there). Expected
 * offsets are counted by hand. */
#include "harness.h"
#include "wudf_guest.h"

static wudf_str view(const char *text) {
  return wudf_str_cstr(text);
}

TEST(guest_find_and_rfind) {
  CHECK_EQ_INT(wudf_str_find(view(""), '@'), -1);
  CHECK_EQ_INT(wudf_str_rfind(view(""), '@'), -1);
  CHECK_EQ_INT(wudf_str_find(view("@"), '@'), 0);
  CHECK_EQ_INT(wudf_str_rfind(view("@"), '@'), 0);
  CHECK_EQ_INT(wudf_str_find(view("a@b@c"), '@'), 1);
  CHECK_EQ_INT(wudf_str_rfind(view("a@b@c"), '@'), 3);
  CHECK_EQ_INT(wudf_str_rfind(view("abc@"), '@'), 3);
  CHECK_EQ_INT(wudf_str_rfind(view("@abc"), '@'), 0);
  CHECK_EQ_INT(wudf_str_rfind(view("abc"), '@'), -1);
  /* Only the view's bytes are searched, not what follows it. */
  CHECK_EQ_INT(wudf_str_rfind(wudf_str_make("ab@", 2), '@'), -1);
  CHECK_EQ_INT(wudf_str_find(wudf_str_make("ab@", 2), '@'), -1);
  /* A negative length is an empty view. */
  CHECK_EQ_INT(wudf_str_rfind(wudf_str_make("@", -5), '@'), -1);
}

TEST(guest_slices_clamp) {
  wudf_str s = view("hello");
  wudf_str t = wudf_str_slice(s, 1, 3);
  CHECK(t.ptr == s.ptr + 1 && t.len == 2);
  t = wudf_str_slice(s, -4, 99);
  CHECK(t.ptr == s.ptr && t.len == 5);
  t = wudf_str_slice(s, 4, 2);
  CHECK(t.len == 0 && t.ptr == s.ptr + 4);
  t = wudf_str_from(s, 9);
  CHECK(t.len == 0 && t.ptr == s.ptr + 5);
  t = wudf_str_prefix(s, 2);
  CHECK(t.ptr == s.ptr && t.len == 2);
  CHECK(wudf_str_starts_with(s, view("he")));
  CHECK(!wudf_str_starts_with(s, view("hello!")));
  CHECK(wudf_str_ends_with(s, view("llo")));
  CHECK(wudf_str_eq(wudf_str_from(s, 3), view("lo")));
}

/* email_domain's steps, as examples/udfs/email_domain.c takes them. */
TEST(guest_domain_after_last_at) {
  static const struct {
    const char *in, *want;
  } cases[] = {{"ann@example.com", "example.com"},
               {"a@b@c.org", "c.org"},
               {"no-at-sign", ""},
               {"trailing@", ""},
               {"@lead", "lead"},
               {"", ""}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    wudf_str s = view(cases[i].in);
    int32_t at = wudf_str_rfind(s, '@');
    wudf_str d = at < 0 ? wudf_str_make("", 0) : wudf_str_from(s, at + 1);
    CHECK_MSG(wudf_str_eq(d, view(cases[i].want)), "case %zu: '%s'", i,
              cases[i].in);
  }
}
