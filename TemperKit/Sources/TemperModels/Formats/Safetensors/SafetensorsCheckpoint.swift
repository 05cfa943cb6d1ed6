import Foundation
import TemperTensor

/// A Hugging Face checkpoint: one `model.safetensors`, or shards listed by
/// `model.safetensors.index.json` (`weight_map`: tensor name → shard file name).
///
/// Reading resolves each name to its shard and checks that the index and shards agree; writing
/// splits tensors into shards under a size limit and writes the index last, so a reader never sees
/// an index pointing at shards that are not there yet.
public final class SafetensorsCheckpoint: @unchecked Sendable {
    /// Name of the single-file checkpoint.
    public static let singleFileName = "model.safetensors"
    /// Name of the shard index.
    public static let indexFileName = "model.safetensors.index.json"

    /// The opened files (one, or every shard in name order).
    public let files: [SafetensorsFile]
    private let location: [String: Int]

    /// Tensor names, sorted.
    public let tensorNames: [String]

    /// Opens a checkpoint from a directory (index if present, else `model.safetensors`), an index
    /// file, or a single `.safetensors` file.
    public init(contentsOf url: URL) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw ModelFormatError(file: url.path, "no such file or directory")
        }
        var indexURL: URL?
        var single: URL?
        if isDir.boolValue {
            let idx = url.appendingPathComponent(Self.indexFileName)
            if FileManager.default.fileExists(atPath: idx.path) { indexURL = idx }
            else {
                single = url.appendingPathComponent(Self.singleFileName)
                guard FileManager.default.fileExists(atPath: single!.path) else {
                    throw ModelFormatError(file: url.path, "holds neither \(Self.indexFileName) nor \(Self.singleFileName)")
                }
            }
        } else if url.lastPathComponent.hasSuffix(".json") {
            indexURL = url
        } else {
            single = url
        }

        if let single {
            let f = try SafetensorsFile(contentsOf: single)
            files = [f]
            var loc = [String: Int]()
            for n in f.tensorNames { loc[n] = 0 }
            location = loc
            tensorNames = loc.keys.sorted()
            return
        }

        let index = indexURL!
        let weightMap = try Self.readWeightMap(index)
        let dir = index.deletingLastPathComponent()
        let shardNames = Set(weightMap.values).sorted()
        var opened = [SafetensorsFile]()
        var shardIndex = [String: Int]()
        for s in shardNames {
            guard !s.isEmpty, !s.contains("/"), s != ".", s != ".." else {
                throw ModelFormatError(file: index.path, "weight_map names shard '\(s)', which is not a plain file name")
            }
            let shardURL = dir.appendingPathComponent(s)
            guard FileManager.default.fileExists(atPath: shardURL.path) else {
                throw ModelFormatError(file: index.path, "shard '\(s)' listed in weight_map is missing")
            }
            shardIndex[s] = opened.count
            opened.append(try SafetensorsFile(contentsOf: shardURL))
        }
        var loc = [String: Int]()
        for (name, shard) in weightMap {
            let i = shardIndex[shard]!
            guard opened[i].tensorInfo(named: name) != nil else {
                throw ModelFormatError(file: index.path, "weight_map puts tensor '\(name)' in '\(shard)', which does not contain it")
            }
            loc[name] = i
        }
        files = opened
        location = loc
        tensorNames = loc.keys.sorted()
    }

    private static func readWeightMap(_ url: URL) throws -> [String: String] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ModelFormatError(file: url.path, "cannot read: \(error.localizedDescription)")
        }
        guard let root = try JSONValue.parse(data, source: url.path).objectValue else {
            throw ModelFormatError(file: url.path, "is not a JSON object")
        }
        guard let map = root["weight_map"]?.objectValue else {
            throw ModelFormatError(file: url.path, "has no 'weight_map' object")
        }
        var out = [String: String]()
        for (k, v) in map {
            guard let s = v.stringValue else { throw ModelFormatError(file: url.path, "weight_map entry '\(k)' is not a string") }
            out[k] = s
        }
        return out
    }

    /// The file holding `name`.
    private func file(_ name: String) throws -> SafetensorsFile {
        guard let i = location[name] else {
            throw ModelFormatError(file: files.first?.path ?? "checkpoint", "no tensor named '\(name)' in the checkpoint")
        }
        return files[i]
    }

    /// The info of the tensor called `name`, if present.
    public func tensorInfo(named name: String) -> SafetensorsTensorInfo? {
        location[name].flatMap { files[$0].tensorInfo(named: name) }
    }

    /// The tensor called `name` as float32.
    public func tensor(named name: String) throws -> Tensor { try file(name).tensor(named: name) }

    /// The tensor called `name` in its stored dtype.
    public func rawTensor(named name: String) throws -> Tensor { try file(name).rawTensor(named: name) }

    /// Writes `tensors` into `directory` as `model.safetensors`, or — when they exceed
    /// `maxShardBytes` — as `model-0000i-of-0000n.safetensors` shards plus the index.
    ///
    /// Tensors go into shards in name order; a tensor larger than the limit gets a shard of its own.
    public static func write(_ tensors: [String: Tensor], to directory: URL, dtype: SafetensorsDType? = nil,
                             maxShardBytes: Int = 5_000_000_000, metadata: [String: String] = ["format": "pt"]) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        func size(_ t: Tensor) -> Int {
            t.count * (t.dtype == .int32 ? 4 : (dtype?.byteSize ?? t.dtype.byteSize))
        }
        var shards = [[String]]()
        var current = [String](), currentBytes = 0, total = 0
        for name in tensors.keys.sorted() {
            let b = size(tensors[name]!)
            if !current.isEmpty && currentBytes + b > maxShardBytes {
                shards.append(current)
                current = []; currentBytes = 0
            }
            current.append(name)
            currentBytes += b
            total += b
        }
        if !current.isEmpty || shards.isEmpty { shards.append(current) }

        if shards.count == 1 {
            try SafetensorsWriter.write(tensors, to: directory.appendingPathComponent(singleFileName), dtype: dtype, metadata: metadata)
            return
        }
        var weightMap = [String: String]()
        for (i, names) in shards.enumerated() {
            let file = String(format: "model-%05d-of-%05d.safetensors", i + 1, shards.count)
            var subset = [String: Tensor]()
            for n in names { subset[n] = tensors[n]; weightMap[n] = file }
            try SafetensorsWriter.write(subset, to: directory.appendingPathComponent(file), dtype: dtype, metadata: metadata)
        }
        let index: [String: Any] = ["metadata": ["total_size": total], "weight_map": weightMap]
        let data = try JSONSerialization.data(withJSONObject: index, options: [.prettyPrinted, .sortedKeys])
        try AtomicFileWriter.write(data, to: directory.appendingPathComponent(indexFileName))
    }
}
