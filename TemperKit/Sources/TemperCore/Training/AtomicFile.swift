import Foundation

/// Small files (JSON, JSONL) written so readers see the old or the new content, never a torn write.
enum AtomicFile {
    /// Writes `data` to a temporary file beside `url`, flushes it, and renames it over `url`.
    static func write(_ data: Data, to url: URL) throws {
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        guard FileManager.default.createFile(atPath: tmp.path, contents: data) else {
            throw TrainingError("cannot write \(tmp.path)")
        }
        if let h = FileHandle(forWritingAtPath: tmp.path) { try? h.synchronize(); try? h.close() }
        guard rename(tmp.path, url.path) == 0 else {
            try? FileManager.default.removeItem(at: tmp)
            throw TrainingError("cannot rename \(tmp.path) to \(url.path): \(String(cString: strerror(errno)))")
        }
    }
}
