// defines: attnroof::test::kSanitized (true in the ATTNROOF_SANITIZE build: unoptimized under
// ASan + UBSan the code runs several times slower, so tests that loop over many seeds or mutants
// draw fewer there, each with every check; the optimized build runs the full count)
#pragma once

namespace attnroof::test {

#if defined(__SANITIZE_ADDRESS__)  // GCC; Clang says it through __has_feature
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

}  // namespace attnroof::test
