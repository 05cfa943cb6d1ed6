import Foundation

/// Writes a file so that readers see either the old file or the complete new one, never a torn
/// write: the bytes go to a temporary file in the same directory, which is flushed and then renamed
/// over the destination.
public enum AtomicFileWriter {
    /// Calls `body` with a handle on a temporary file beside `url`, then renames it to `url`.
    /// On any error the temporary file is removed and the destination left untouched.
    public static func write(to url: URL, _ body: (FileHandle) throws -> Void) throws {
        let dir = url.deletingLastPathComponent()
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        guard FileManager.default.createFile(atPath: tmp.path, contents: nil) else {
            throw ModelFormatError(file: url.path, "cannot create a temporary file in \(dir.path)")
        }
        do {
            let handle = try FileHandle(forWritingTo: tmp)
            do {
                try body(handle)
                try handle.synchronize()
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
            if rename(tmp.path, url.path) != 0 {
                throw ModelFormatError(file: url.path, "cannot rename the temporary file into place: \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw error
        }
    }

    /// Writes `data` to `url` atomically.
    public static func write(_ data: Data, to url: URL) throws {
        try write(to: url) { try $0.write(contentsOf: data) }
    }
}
