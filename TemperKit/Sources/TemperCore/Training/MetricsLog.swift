import Foundation

/// `output_dir/metrics.jsonl`: one JSON object per logged step, appended as training goes.
public final class MetricsLog {
    /// The file.
    public let url: URL
    private let handle: FileHandle

    /// Opens (creating) the log. On resume, entries after `keepThroughStep` — written by the
    /// interrupted run after its last checkpoint, and about to be logged again — are dropped first.
    public init(url: URL, keepThroughStep: Int? = nil) throws {
        self.url = url
        let fm = FileManager.default
        try Self.createFolder(url.deletingLastPathComponent())
        if let keep = keepThroughStep, let data = fm.contents(atPath: url.path) {
            let kept = data.split(separator: UInt8(ascii: "\n")).filter { line in
                guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                      let step = (object["step"] as? NSNumber)?.intValue else { return false }
                return step <= keep
            }
            var out = Data()
            for line in kept { out.append(contentsOf: line); out.append(UInt8(ascii: "\n")) }
            try AtomicFileWriter.write(out, to: url)
        } else if keepThroughStep == nil {
            try AtomicFileWriter.write(Data(), to: url)
        }
        if !fm.fileExists(atPath: url.path) { try AtomicFileWriter.write(Data(), to: url) }
        guard let h = FileHandle(forWritingAtPath: url.path) else { throw TrainingError("cannot open \(url.path) for writing") }
        try h.seekToEnd()
        handle = h
    }

    deinit { try? handle.close() }

    /// Creates the run's output folder, or says plainly why it cannot be (Foundation's own error
    /// names neither the setting nor the cause).
    static func createFolder(_ folder: URL) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder) {
            guard isFolder.boolValue else { throw TrainingError("output_dir \(folder.path) is a file, not a folder") }
            guard FileManager.default.isWritableFile(atPath: folder.path) else {
                throw TrainingError("output_dir \(folder.path) is not writable")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            let cause = (error as NSError).userInfo[NSUnderlyingErrorKey].map { "\($0)" } ?? error.localizedDescription
            throw TrainingError("output_dir \(folder.path) cannot be created (\(cause)); choose a folder you can write")
        }
    }

    /// Appends one entry (keys sorted, `step` an integer).
    public func append(_ entry: [String: Double]) throws {
        try handle.write(contentsOf: Data((Self.render(entry) + "\n").utf8))
    }

    /// One entry as a JSON line.
    static func render(_ entry: [String: Double]) -> String {
        let fields = entry.keys.sorted().map { key -> String in
            let v = entry[key]!
            let text: String
            if key == "step" || key == "num_tokens" { text = String(Int(v)) }
            else if v.isNaN { text = "\"NaN\"" }
            else if v.isInfinite { text = v > 0 ? "\"Infinity\"" : "\"-Infinity\"" }
            else { text = "\(v)" }
            return "\"\(key)\": \(text)"
        }
        return "{" + fields.joined(separator: ", ") + "}"
    }
}
