/// Elementwise updates over both cores above this many elements; below it a dispatch costs more than it saves.
let parallelGrain = 1 << 15

/// Loads and stores of 8 floats at once.
@inline(__always) func load8(_ p: UnsafeMutablePointer<Float>, _ i: Int) -> SIMD8<Float> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD8<Float>.self)
}
