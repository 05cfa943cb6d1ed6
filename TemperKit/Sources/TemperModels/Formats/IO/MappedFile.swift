import Foundation
import TemperTensor
#if canImport(Glibc)
import Glibc
#endif

/// A whole file mapped into memory, read-only on disk and copy-on-write in memory.
///
/// Model weights are hundreds of megabytes; mapping them lets tensors borrow the bytes with no copy
/// and lets the kernel page them in lazily. The mapping is private and writable so a tensor that
/// borrows it can be updated in place (fine-tuning) without touching the file. Tensors that borrow
/// the mapping hold this object as their storage owner, which keeps it mapped.
public final class MappedFile: @unchecked Sendable, FileBackedMapping {
    /// Path of the mapped file.
    public let path: String
    /// First byte of the mapping (nil for an empty file).
    public let base: UnsafeMutableRawPointer?
    /// Size of the file in bytes.
    public let byteCount: Int

    /// Maps the file at `url`; throws if it cannot be opened or mapped.
    public init(url: URL) throws {
        path = url.path
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw ModelFormatError(file: path, "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw ModelFormatError(file: path, "cannot stat: \(String(cString: strerror(errno)))") }
        if (st.st_mode & S_IFMT) != S_IFREG { throw ModelFormatError(file: path, "not a regular file") }
        byteCount = Int(st.st_size)
        if byteCount == 0 { base = nil; return }
        let p = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
        if p == MAP_FAILED || p == nil {
            throw ModelFormatError(file: path, "cannot map \(byteCount) bytes: \(String(cString: strerror(errno)))")
        }
        base = p
    }

    /// The whole file as bytes.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: byteCount) }

    deinit {
        if let base { munmap(base, byteCount) }
    }
}
