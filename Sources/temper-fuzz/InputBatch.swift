import Foundation

/// A batch of inputs in one file, handed from the campaign to a child: each input is a 4-byte
/// little-endian length followed by its bytes.
enum InputBatch {
    /// Writes `inputs` to `url`.
    static func write(_ inputs: [[UInt8]], to url: URL) throws {
        var out: [UInt8] = []
        out.reserveCapacity(inputs.reduce(0) { $0 + $1.count + 4 })
        for input in inputs {
            let n = UInt32(input.count)
            for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: n >> (8 * k))) }
            out += input
        }
        try Data(out).write(to: url)
    }

    /// Reads the inputs of a batch file; a malformed file (not written by `write`) is an error.
    static func read(_ url: URL) throws -> [[UInt8]] {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw FuzzError("batch \(url.path): cannot be read") }
        let bytes = [UInt8](data)
        var inputs: [[UInt8]] = []
        var i = 0
        while i < bytes.count {
            guard i + 4 <= bytes.count else { throw FuzzError("batch \(url.path): truncated length at byte \(i)") }
            let n = (0..<4).reduce(0) { $0 | Int(bytes[i + $1]) << (8 * $1) }
            i += 4
            guard n <= bytes.count - i else { throw FuzzError("batch \(url.path): input at byte \(i) claims \(n) bytes, \(bytes.count - i) left") }
            inputs.append(Array(bytes[i..<i + n]))
            i += n
        }
        return inputs
    }
}

/// Where campaigns keep their batches and scratch files: /dev/shm when it is there. Every input
/// is written to a file (the parsers read paths, as `temper` does), and on a disk-backed /tmp each
/// write waits on the disk: measured 9 ms an input against 0.1 ms on tmpfs.
func scratchRoot() -> URL {
    if access("/dev/shm", W_OK) == 0 { return URL(fileURLWithPath: "/dev/shm") }
    return FileManager.default.temporaryDirectory
}
