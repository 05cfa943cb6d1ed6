import Foundation
import TemperModels
import TemperTensor

/// Reads and writes adapters in Hugging Face PEFT's on-disk layout: a folder holding
/// `adapter_config.json` and `adapter_model.safetensors` (tensors under PEFT keys such as
/// `base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight`), so PEFT's
/// `PeftModel.from_pretrained` loads what Temper writes and Temper loads what PEFT writes.
public enum PEFTAdapterFiles {
    /// Name of the configuration file PEFT writes.
    public static let configFileName = "adapter_config.json"
    /// Name of the weights file PEFT writes.
    public static let weightsFileName = "adapter_model.safetensors"

    /// Writes `adapter` into `directory` (created if needed). Each file is written to a temporary
    /// name and renamed, so a crash leaves either the old file or the complete new one.
    public static func write(_ adapter: AdapterExport, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let object = adapter.config.mapValues(\.foundationValue)
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try SafetensorsWriter.write(adapter.tensors.mapValues { $0.contiguous() },
                                    to: directory.appendingPathComponent(weightsFileName))
        try data.write(to: directory.appendingPathComponent(configFileName), options: .atomic)
    }

    /// Reads the configuration and every tensor (as float32) of the adapter in `directory`.
    public static func read(from directory: URL) throws -> AdapterExport {
        let configURL = directory.appendingPathComponent(configFileName)
        let weightsURL = directory.appendingPathComponent(weightsFileName)
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw SpecError("\(directory.path) is not a PEFT adapter: it has no \(configFileName)")
        }
        guard FileManager.default.fileExists(atPath: weightsURL.path) else {
            let hint = FileManager.default.fileExists(atPath: directory.appendingPathComponent("adapter_model.bin").path)
                ? " (adapter_model.bin is a pickle; save the adapter with safe_serialization=True)" : ""
            throw SpecError("\(directory.path) has no \(weightsFileName)\(hint)")
        }
        let json = try JSONValue.parse(try Data(contentsOf: configURL), source: configURL.path, what: configFileName)
        guard case .object(let fields) = json else {
            throw SpecError("\(configURL.path): expected a JSON object")
        }
        let file = try SafetensorsFile(contentsOf: weightsURL)
        var tensors: [String: Tensor] = [:]
        for name in file.tensorNames { tensors[name] = try file.tensor(named: name) }
        return AdapterExport(config: fields.mapValues(ColumnValue.init), tensors: tensors)
    }
}

extension ColumnValue {
    /// The same value as a `JSONValue` from a parsed file.
    init(_ json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .number(Double(i))
        case .double(let d): self = .number(d)
        case .string(let s): self = .string(s)
        case .array(let a): self = .array(a.map(ColumnValue.init))
        case .object(let o): self = .object(o.mapValues(ColumnValue.init))
        }
    }

    /// The value as Foundation objects for `JSONSerialization`; whole numbers become integers so
    /// `"r": 8` is not written as `8.0` (PEFT reads `r` as an int).
    var foundationValue: Any {
        switch self {
        case .null: return NSNull()
        case .bool(let b): return b
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? Int(d) as Any : d as Any
        case .string(let s): return s
        case .array(let a): return a.map(\.foundationValue)
        case .object(let o): return o.mapValues(\.foundationValue)
        }
    }
}
