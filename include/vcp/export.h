// vcp/export.h: VCP_EXPORT, which marks the public API (every class and free function declared in
// include/vcp/*.h) as the one part of libvcp.so that other programs may link against.
//
// Why: libvcp is compiled with hidden visibility (-fvisibility=hidden, -fvisibility-inlines-hidden), so its
// internals (lib/*.h: CPU kernel tiers, backend stages, file helpers) stay out of the shared library's dynamic
// symbol table and may change between releases without breaking a program linked against libvcp.so.0. The
// static libvcp.a is built from the very same objects: a program linking it statically sees every symbol (hidden
// visibility only matters at a shared-object boundary), and a shared object built on top of libvcp.a re-exports
// just the API marked here.
//
// Ownership: none (a macro). Thread safety: not applicable. Errors: none.
#pragma once

// In C++ the standard attribute form, which may follow other attributes (`class [[nodiscard]] VCP_EXPORT Status`);
// in C (include/vcp/vcp.h) the GNU form.
#if defined(__cplusplus) && (defined(__GNUC__) || defined(__clang__))
#define VCP_EXPORT [[gnu::visibility("default")]]
#elif defined(__GNUC__) || defined(__clang__)
#define VCP_EXPORT __attribute__((visibility("default")))
#else
#define VCP_EXPORT
#endif
