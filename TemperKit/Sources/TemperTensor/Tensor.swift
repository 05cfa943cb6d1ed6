import Foundation

/// Element type of a tensor's storage.
///
/// Compute happens in `float32`; `int32` carries token ids and indices. The half-precision types
/// exist so weights can be stored compactly and converted on load (the models issue dequantizes
/// GGUF blocks into `float32`).
public enum DType: String, Codable, Sendable, CaseIterable {
    case float32, int32, float16, bfloat16

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .float16, .bfloat16: return 2
        }
    }
}

/// An n-dimensional array on the CPU, with reverse-mode autograd.
///
/// A tensor is a view — shape, strides and an element offset — into a shared `TensorStorage`, so
/// reshape / transpose / slice are O(1) where the layout allows. Tensors are reference types so the
/// autograd graph can point at them and accumulate `grad` into parameters in place, as in PyTorch.
///
/// A tensor that `requiresGrad` and has no `gradFn` is a leaf (a parameter); `backward()` adds into
/// its `grad`. A frozen tensor (`requiresGrad == false`) never gets a gradient buffer.
public final class Tensor: CustomStringConvertible {
    /// Size of each dimension, outermost first.
    public let shape: [Int]
    /// Elements to skip per step along each dimension (0 for a broadcast dimension).
    public let strides: [Int]
    /// Index of the first element in `storage`, in elements.
    public let offset: Int
    /// Element type.
    public let dtype: DType
    /// The memory this tensor views.
    public let storage: TensorStorage

    /// Whether gradients flow to this tensor. Setting it on a leaf makes it a trainable parameter.
    public var requiresGrad: Bool
    /// The accumulated gradient of a leaf after `backward()`; nil until then or after `zeroGrad()`.
    public var grad: Tensor?
    /// The operation that produced this tensor, while its graph is alive.
    public internal(set) var gradFn: GradFn?
    /// An optional name, used in messages and checkpoints.
    public var name: String?

    // MARK: - Construction

    /// A view of `storage`; all other constructors funnel here.
    public init(storage: TensorStorage, shape: [Int], strides: [Int]? = nil, offset: Int = 0,
                dtype: DType = .float32, requiresGrad: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        self.storage = storage
        self.shape = shape
        self.strides = strides ?? Tensor.contiguousStrides(shape)
        self.offset = offset
        self.dtype = dtype
        self.requiresGrad = requiresGrad
    }

    /// A new tensor of uninitialised memory. Kernels that overwrite every element use this.
    public convenience init(uninitializedShape shape: [Int], dtype: DType = .float32) {
        let n = shape.reduce(1, *)
        self.init(storage: TensorStorage(byteCount: n * dtype.byteSize), shape: shape, dtype: dtype)
    }

    /// A float tensor holding `scalars` in row-major order.
    public convenience init(shape: [Int], scalars: [Float], requiresGrad: Bool = false) {
        let n = shape.reduce(1, *)
        precondition(scalars.count == n, "\(scalars.count) scalars for shape \(shape) (needs \(n))")
        self.init(uninitializedShape: shape)
        scalars.withUnsafeBufferPointer { src in
            if n > 0 { storage.base.copyMemory(from: src.baseAddress!, byteCount: n * 4) }
        }
        self.requiresGrad = requiresGrad
    }

    /// A 1-D float tensor.
    public convenience init(_ scalars: [Float], requiresGrad: Bool = false) {
        self.init(shape: [scalars.count], scalars: scalars, requiresGrad: requiresGrad)
    }

    /// A 0-D float tensor.
    public convenience init(scalar: Float, requiresGrad: Bool = false) {
        self.init(shape: [], scalars: [scalar], requiresGrad: requiresGrad)
    }

    /// An int32 tensor (token ids, indices) holding `values` in row-major order.
    public convenience init(shape: [Int], int32 values: [Int32]) {
        let n = shape.reduce(1, *)
        precondition(values.count == n, "\(values.count) values for shape \(shape) (needs \(n))")
        self.init(uninitializedShape: shape, dtype: .int32)
        values.withUnsafeBufferPointer { src in
            if n > 0 { storage.base.copyMemory(from: src.baseAddress!, byteCount: n * 4) }
        }
    }

    /// A float tensor of `value` everywhere.
    public static func full(_ shape: [Int], _ value: Float, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        let p = t.floatPointer
        for i in 0..<t.count { p[i] = value }
        t.requiresGrad = requiresGrad
        return t
    }

    /// A float tensor of zeros.
    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor(storage: TensorStorage(byteCount: n * 4, zeroed: true), shape: shape, requiresGrad: requiresGrad)
    }

    /// A float tensor of ones.
    public static func ones(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        full(shape, 1, requiresGrad: requiresGrad)
    }

    /// Standard-normal draws scaled by `std`, from `rng` (reproducible for a given state).
    public static func randn(_ shape: [Int], std: Float = 1, rng: inout PhiloxRNG, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        let p = t.floatPointer
        for i in 0..<t.count { p[i] = rng.nextNormal() * std }
        t.requiresGrad = requiresGrad
        return t
    }

    /// Uniform draws in `[low, high)` from `rng`.
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1, rng: inout PhiloxRNG, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        let p = t.floatPointer
        for i in 0..<t.count { p[i] = low + (high - low) * rng.nextUniform() }
        t.requiresGrad = requiresGrad
        return t
    }

    // MARK: - Shape

    /// Row-major strides for `shape`.
    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = s
            s *= shape[i]
        }
        return strides
    }

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// Whether elements are laid out row-major with no gaps (views from reshape stay contiguous;
    /// transposes and broadcasts do not).
    public var isContiguous: Bool {
        var expected = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) where shape[i] != 1 {
            if strides[i] != expected { return false }
            expected *= shape[i]
        }
        return true
    }

    /// Size of dimension `axis`, where negative axes count from the end.
    public func size(_ axis: Int) -> Int { shape[normalizeAxis(axis)] }

    /// Maps a possibly negative axis into `0..<rank`.
    public func normalizeAxis(_ axis: Int) -> Int {
        let a = axis < 0 ? axis + rank : axis
        precondition(a >= 0 && a < max(rank, 1), "axis \(axis) out of range for rank \(rank)")
        return a
    }

    // MARK: - Raw access (for kernels and optimizers)

    /// Pointer to the first float element of this view. Only meaningful for `float32`; index it
    /// with `strides` unless `isContiguous`.
    public var floatPointer: UnsafeMutablePointer<Float> {
        storage.base.assumingMemoryBound(to: Float.self) + offset
    }

    /// Pointer to the first int32 element of this view.
    public var int32Pointer: UnsafeMutablePointer<Int32> {
        storage.base.assumingMemoryBound(to: Int32.self) + offset
    }

    /// Reads the elements of a contiguous float tensor (copying a strided view first).
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        precondition(dtype == .float32, "withUnsafeBufferPointer on a \(dtype) tensor")
        let c = contiguous()
        return try withExtendedLifetime(c) { try body(UnsafeBufferPointer(start: c.floatPointer, count: c.count)) }
    }

    /// Writes the elements of a contiguous float tensor in place. Not recorded by autograd: use
    /// it for optimizer updates and initialisation, never inside a differentiable computation.
    public func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        precondition(dtype == .float32 && isContiguous, "in-place access needs a contiguous float32 tensor")
        return try withExtendedLifetime(self) { try body(UnsafeMutableBufferPointer(start: floatPointer, count: count)) }
    }

    /// The elements in row-major order.
    public var scalars: [Float] {
        precondition(dtype == .float32, "scalars of a \(dtype) tensor; use int32Values")
        let c = contiguous()
        return withExtendedLifetime(c) { Array(UnsafeBufferPointer(start: c.floatPointer, count: c.count)) }
    }

    /// The elements of an int32 tensor in row-major order.
    public var int32Values: [Int32] {
        precondition(dtype == .int32, "int32Values of a \(dtype) tensor")
        let c = contiguous()
        return withExtendedLifetime(c) { Array(UnsafeBufferPointer(start: c.int32Pointer, count: c.count)) }
    }

    /// The value of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item() of a tensor with \(count) elements")
        return dtype == .int32 ? Float(int32Pointer.pointee) : floatPointer.pointee
    }

    /// Element at a multi-index (slow; for tests and debugging).
    public subscript(_ index: Int...) -> Float {
        precondition(index.count == rank, "index \(index) for rank \(rank)")
        var o = offset
        for (i, s) in zip(index, strides) { o += i * s }
        return dtype == .int32 ? Float(storage.base.assumingMemoryBound(to: Int32.self)[o])
                               : storage.base.assumingMemoryBound(to: Float.self)[o]
    }

    // MARK: - Layout

    /// This tensor if it is contiguous, otherwise a contiguous copy (recorded by autograd).
    public func contiguous() -> Tensor {
        if isContiguous { return self }
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        StridedCopy.copy(from: self, to: out)
        return record(out, "contiguous", [self]) { g in [g] }
    }

    /// A tensor sharing storage with this one but outside the autograd graph.
    public func detached() -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset, dtype: dtype)
    }

    /// A contiguous copy with its own storage, outside the autograd graph.
    public func copy() -> Tensor {
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        StridedCopy.copy(from: self, to: out)
        return out
    }

    /// Sets `grad` to nil.
    public func zeroGrad() { grad = nil }

    public var description: String {
        let head = "Tensor(\(dtype), shape: \(shape)\(requiresGrad ? ", requiresGrad" : ""))"
        if count > 16 { return head }
        return head + " " + (dtype == .int32 ? int32Values.description : scalars.description)
    }
}

/// Copies between tensors of the same shape and element size with any strides.
enum StridedCopy {
    static func copy(from src: Tensor, to dst: Tensor) {
        precondition(src.shape == dst.shape && src.dtype.byteSize == dst.dtype.byteSize,
                     "copy of \(src.dtype) \(src.shape) into \(dst.dtype) \(dst.shape)")
        let n = src.count
        if n == 0 { return }
        let esz = src.dtype.byteSize
        if src.isContiguous && dst.isContiguous {
            (dst.storage.base + dst.offset * esz).copyMemory(from: src.storage.base + src.offset * esz, byteCount: n * esz)
        } else if esz == 4 {
            strided(UInt32.self, src, dst)
        } else {
            strided(UInt16.self, src, dst)
        }
    }

    /// Walks every row of the last axis, advancing a multi-index over the outer axes.
    private static func strided<T>(_: T.Type, _ src: Tensor, _ dst: Tensor) {
        let rank = src.rank
        let inner = src.shape[rank - 1]
        let sIn = src.strides[rank - 1], dIn = dst.strides[rank - 1]
        let sp = src.storage.base.assumingMemoryBound(to: T.self) + src.offset
        let dp = dst.storage.base.assumingMemoryBound(to: T.self) + dst.offset
        var index = [Int](repeating: 0, count: rank)
        for _ in 0..<(src.count / max(inner, 1)) {
            var so = 0, doff = 0
            for d in 0..<(rank - 1) { so += index[d] * src.strides[d]; doff += index[d] * dst.strides[d] }
            for j in 0..<inner { dp[doff + j * dIn] = sp[so + j * sIn] }
            var d = rank - 2
            while d >= 0 { index[d] += 1; if index[d] < src.shape[d] { break }; index[d] = 0; d -= 1 }
        }
    }
}

extension Tensor {
    /// Overwrites this view's elements with `source`'s (same shape), whatever either's strides.
    /// Not recorded by autograd: for caches and buffers that are filled in place.
    public func assign(from source: Tensor) {
        withExtendedLifetime(source) { StridedCopy.copy(from: source, to: self) }
    }
}
