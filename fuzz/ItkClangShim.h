// Force-included into core/ in the clang fuzz build only (-DEIVIEW_FUZZ=ON). Debian's ITK
// 5.2 was configured with GCC and its itk_compiler_detection.h knows no other compiler
// ("#error Unsupported compiler"). Clang speaks GCC's dialect, so the header is read once
// here with clang presenting itself as the GCC that built ITK; its include guard keeps
// the result for every later ITK include. The normal builds (GCC) never see this file.
#pragma once

#if defined(__clang__) && __has_include(<itk_compiler_detection.h>)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wbuiltin-macro-redefined"
#pragma push_macro("__clang__")
#pragma push_macro("__GNUC__")
#pragma push_macro("__GNUC_MINOR__")
#undef __clang__
#undef __GNUC__
#undef __GNUC_MINOR__
#define __GNUC__ 12
#define __GNUC_MINOR__ 2
#include <itk_compiler_detection.h>
#pragma pop_macro("__GNUC_MINOR__")
#pragma pop_macro("__GNUC__")
#pragma pop_macro("__clang__")
#pragma clang diagnostic pop
#endif
