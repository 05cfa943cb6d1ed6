import CTemperSupport
#if canImport(Glibc)
import Glibc
#endif

/// A frozen `[rows, columns]` weight matrix kept in a block format (`QuantFormat`): each row is
/// `columns / blockValues` consecutive blocks, exactly as a GGUF file stores them. The bytes are
/// borrowed from their owner (a memory-mapped file) or owned; the matrix is never expanded whole
/// except on request (`dequantized()`, e.g. to merge adapters into a float model).
public final class QuantizedMatrix: @unchecked Sendable {
    /// The block format.
    public let format: QuantFormat
    /// Output features (rows, PyTorch's `[out, in]` layout).
    public let rows: Int
    /// Input features (values per row).
    public let columns: Int
    /// Bytes per row.
    public let rowBytes: Int
    let base: UnsafeRawPointer
    /// Keeps the bytes alive: the mapping they were borrowed from, or `OwnedBytes`.
    private let owner: AnyObject

    /// A matrix over `rows · rowBytes` bytes at `bytes`, kept alive by `owner`.
    /// Throws when a row is not a whole number of blocks; `name` says which tensor in the message.
    public init(format: QuantFormat, rows: Int, columns: Int, bytes: UnsafeRawPointer, owner: AnyObject, name: String) throws {
        guard rows > 0, columns > 0, columns % format.blockValues == 0 else {
            throw QuantizedMatrixError("\(name): a row of \(columns) values is not a whole number of \(format.rawValue) blocks of \(format.blockValues)")
        }
        self.format = format
        self.rows = rows
        self.columns = columns
        rowBytes = columns / format.blockValues * format.blockBytes
        base = bytes
        self.owner = owner
        // One scale per block is read; blocks interleave scales and codes, so this pages the tensor
        // in once at load (the file's pages, which the kernel may drop again under pressure).
        if let (block, value) = firstNonFiniteScale() {
            let perRow = columns / format.blockValues
            throw QuantizedMatrixError("\(name): block \(block % perRow) of row \(block / perRow) has a non-finite scale (\(value)); the file is damaged")
        }
    }

    /// The first block whose float16 scale (or minimum) is a NaN or an infinity, and that value.
    /// A bad scale would turn whole rows of outputs into NaN with no hint of where they came from,
    /// so the matrix is refused at load; only the scales are read (2-4 bytes of each block).
    private func firstNonFiniteScale() -> (Int, Float)? {
        let blocks = rows * (columns / format.blockValues), size = format.blockBytes
        for offset in format.scaleOffsets {
            var p = base + offset
            for b in 0..<blocks {
                // Exponent bits all set: infinity or NaN.
                let bits = p.loadUnaligned(as: UInt16.self)
                if bits & 0x7C00 == 0x7C00 { return (b, HalfConversion.floatFromF16(bits)) }
                p += size
            }
        }
        return nil
    }

    /// Quantizes a float32 `[rows, columns]` matrix to `format` (one of `QuantFormat.encodable`),
    /// with ggml's reference rounding: what `--quantize` / `--load_in` do to a float model.
    public convenience init(quantizing weight: Tensor, format: QuantFormat, name: String) throws {
        guard QuantFormat.encodable.contains(format) else {
            throw QuantizedMatrixError("\(name): quantizing to \(format.rawValue) is not supported (supported: \(QuantFormat.encodable.map(\.rawValue).joined(separator: ", ")))")
        }
        guard weight.rank == 2, weight.dtype == .float32 else {
            throw QuantizedMatrixError("\(name): expected a float32 [out, in] matrix, got \(weight.dtype) \(weight.shape)")
        }
        let rows = weight.shape[0], cols = weight.shape[1]
        guard cols % format.blockValues == 0 else {
            throw QuantizedMatrixError("\(name): a row of \(cols) values is not a whole number of \(format.rawValue) blocks of \(format.blockValues)")
        }
        let rowBytes = cols / format.blockValues * format.blockBytes
        let storage = OwnedBytes(count: rows * rowBytes)
        let w = weight.contiguous()
        withExtendedLifetime(w) {
            let src = UnsafePointer(w.floatPointer), dst = storage.pointer.assumingMemoryBound(to: UInt8.self)
            Parallel.forRanges(rows, grain: 16) { r in
                for i in r { temper_quantize_row(format.integerDotCode, src + i * cols, cols, dst + i * rowBytes) }
            }
        }
        try self.init(format: format, rows: rows, columns: cols, bytes: storage.pointer, owner: storage, name: name)
    }

    /// A new matrix whose row `i` is this matrix's row `order[i]` (bytes copied): for row
    /// permutations such as undoing llama.cpp's RoPE reordering of the query and key projections.
    public func gatheringRows(_ order: [Int], name: String) throws -> QuantizedMatrix {
        precondition(order.count == rows && order.allSatisfy { (0..<rows).contains($0) }, "gatheringRows: not a row order")
        let storage = OwnedBytes(count: rows * rowBytes)
        for (i, from) in order.enumerated() {
            (storage.pointer + i * rowBytes).copyMemory(from: base + from * rowBytes, byteCount: rowBytes)
        }
        return try QuantizedMatrix(format: format, rows: rows, columns: columns, bytes: storage.pointer, owner: storage, name: name)
    }

    /// Drops the pages of blocks borrowed from a file mapping from the resident set, once they will
    /// not be read again (the projections re-encoded to another format): otherwise the old blocks
    /// stay resident beside the new ones. Pages shared with neighbouring tensors and bytes the
    /// matrix owns are left alone; a later read would page the blocks back in from the file.
    public func releaseMappedPages() {
        // Only pages backed by a file come back: on heap memory MADV_DONTNEED zeroes them.
        guard owner is any FileBackedMapping else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: base) + page - 1) / page * page
        let end = (Int(bitPattern: base) + byteCount) / page * page
        guard end > start, let p = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(p, end - start, Int32(MADV_DONTNEED))
    }

    /// Bytes the blocks take.
    public var byteCount: Int { rows * rowBytes }

    /// Decodes rows `range` into `dst` (`range.count · columns` floats).
    public func dequantizeRows(_ range: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
        let blocksPerRow = columns / format.blockValues
        format.decode(base + range.lowerBound * rowBytes, dst, blocks: range.count * blocksPerRow)
    }

    /// The whole matrix as float32 `[rows, columns]`.
    public func dequantized() -> Tensor {
        let out = Tensor(uninitializedShape: [rows, columns])
        let dst = out.floatPointer
        Parallel.forRanges(rows, grain: max(1, (1 << 15) / columns)) { r in
            dequantizeRows(r, into: dst + r.lowerBound * columns)
        }
        return out
    }
}

/// Heap bytes owned by a quantized matrix built in memory (quantized at load, or rows permuted).
final class OwnedBytes {
    let pointer: UnsafeMutableRawPointer
    init(count: Int) { pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64) }
    deinit { pointer.deallocate() }
}

/// A quantized matrix that cannot be built: its shape does not fit the format, or the format cannot
/// be written. The message names the tensor.
public struct QuantizedMatrixError: Error, CustomStringConvertible {
    /// What was wrong and what was expected.
    public let description: String
    init(_ message: String) { description = message }
}

/// Marks an owner of bytes mapped from a file: a quantized matrix never writes its blocks, so it may
/// drop their pages from the resident set and have them read back from the file later
/// (`QuantizedMatrix.releaseMappedPages`).
public protocol FileBackedMapping: AnyObject {}
