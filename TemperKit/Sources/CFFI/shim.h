#ifndef TEMPER_CFFI_SHIM_H
#define TEMPER_CFFI_SHIM_H
#include <ffi.h>

// Swift 6 refuses `&ffi_type_double` (shared mutable global); these accessors hand out the
// addresses of libffi's built-in type descriptors instead.
static inline ffi_type *temper_ffi_type_void(void) { return &ffi_type_void; }
static inline ffi_type *temper_ffi_type_sint32(void) { return &ffi_type_sint32; }
static inline ffi_type *temper_ffi_type_sint64(void) { return &ffi_type_sint64; }
static inline ffi_type *temper_ffi_type_uint32(void) { return &ffi_type_uint32; }
static inline ffi_type *temper_ffi_type_float(void) { return &ffi_type_float; }
static inline ffi_type *temper_ffi_type_double(void) { return &ffi_type_double; }
static inline ffi_type *temper_ffi_type_pointer(void) { return &ffi_type_pointer; }
static inline ffi_type *temper_ffi_type_sint8(void) { return &ffi_type_sint8; }
static inline ffi_type *temper_ffi_type_uint8(void) { return &ffi_type_uint8; }
static inline ffi_type *temper_ffi_type_sint16(void) { return &ffi_type_sint16; }
static inline ffi_type *temper_ffi_type_uint16(void) { return &ffi_type_uint16; }
static inline ffi_type *temper_ffi_type_uint64(void) { return &ffi_type_uint64; }

#endif
