import Foundation
import XCTest
@testable import TemperModels
import TemperTensor

final class SafetensorsTests: XCTestCase {
    func assertFormatError(_ fragments: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("expected an error containing \(fragments)", file: file, line: line)
        } catch let e as ModelFormatError {
            for f in fragments where !e.description.contains(f) {
                XCTFail("error '\(e.description)' does not mention '\(f)'", file: file, line: line)
            }
        } catch {
            XCTFail("unexpected error type: \(error)", file: file, line: line)
        }
    }

    /// A safetensors file from a raw header and data, for corrupt-file tests.
    func rawFile(header: String, data: [UInt8], lengthOverride: UInt64? = nil) throws -> URL {
        var b = [UInt8]()
        GGUFBuilder.append(lengthOverride ?? UInt64(header.utf8.count), to: &b)
        b += Array(header.utf8) + data
        let url = TestFiles.temporaryDirectory().appendingPathComponent("bad.safetensors")
        try Data(b).write(to: url)
        return url
    }

    func sampleTensors() -> [String: Tensor] {
        [
            "a.weight": Tensor(shape: [2, 3], scalars: [1, -2, 3.5, 0.1, 1e-3, -65000]),
            "b.bias": Tensor([0.25, 0.5, 0.75]),
            "scalar": Tensor(scalar: 7),
            "ids": Tensor(shape: [2], int32: [5, -9]),
        ]
    }

    func testRoundTripInEveryFloatType() throws {
        let tensors = sampleTensors()
        for dtype in [SafetensorsDType.F32, .F16, .BF16] {
            let url = TestFiles.temporaryDirectory().appendingPathComponent("m.safetensors")
            try SafetensorsWriter.write(tensors, to: url, dtype: dtype, metadata: ["format": "pt", "note": "x"])
            let bytes = try Data(contentsOf: url)
            let headerLength = bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            XCTAssertEqual((8 + Int(headerLength)) % 8, 0, "data section starts 8-aligned")

            let f = try SafetensorsFile(contentsOf: url)
            XCTAssertEqual(f.metadata, ["format": "pt", "note": "x"])
            XCTAssertEqual(Set(f.tensorNames), Set(tensors.keys))
            XCTAssertEqual(f.tensorInfo(named: "a.weight")?.dtype, dtype)
            XCTAssertEqual(f.tensorInfo(named: "ids")?.dtype, .I32)
            for (name, t) in tensors where t.dtype == .float32 {
                let back = try f.tensor(named: name)
                XCTAssertEqual(back.shape, t.shape, name)
                let expected: [Float] = t.scalars.map {
                    switch dtype {
                    case .F16: return Float(Float16($0))
                    case .BF16: return HalfConversion.floatFromBF16(HalfConversion.bf16Bits($0))
                    default: return $0
                    }
                }
                XCTAssertEqual(back.scalars, expected, "\(name) as \(dtype)")
                let raw = try f.rawTensor(named: name)
                XCTAssertEqual(raw.dtype, dtype.tensorDType)
            }
            XCTAssertEqual(try f.rawTensor(named: "ids").int32Values, [5, -9])
            XCTAssertEqual(try f.tensor(named: "scalar").shape, [])
            assertFormatError(["tensor 'ids'", "I32", "only F32, F16 and BF16"]) { _ = try f.tensor(named: "ids") }
        }
    }

    func testWritingKeepsEachTensorsOwnDtypeAndHandlesViews() throws {
        let t = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let transposed = Tensor(storage: t.storage, shape: [3, 2], strides: [1, 3])   // a non-contiguous view
        let url = TestFiles.temporaryDirectory().appendingPathComponent("v.safetensors")
        try SafetensorsWriter.write(["t": transposed], to: url)
        XCTAssertEqual(try SafetensorsFile(contentsOf: url).tensor(named: "t").scalars, [1, 4, 2, 5, 3, 6])
        XCTAssertThrowsError(try SafetensorsWriter.write(["t": t], to: url, dtype: .I64))
        assertFormatError(["__metadata__"]) { try SafetensorsWriter.write(["__metadata__": t], to: url) }
    }

    func testFailedWriteLeavesNoFileBehind() throws {
        let dir = TestFiles.temporaryDirectory()
        let url = dir.appendingPathComponent("x.safetensors")
        try SafetensorsWriter.write(["a": Tensor([1])], to: url)
        XCTAssertThrowsError(try SafetensorsWriter.write(["__metadata__": Tensor([2])], to: url))
        XCTAssertEqual(try SafetensorsFile(contentsOf: url).tensor(named: "a").scalars, [1], "old file intact")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["x.safetensors"])
        XCTAssertThrowsError(try SafetensorsWriter.write(["a": Tensor([1])], to: dir.appendingPathComponent("no/such/dir.safetensors")))
    }

    func testShardedCheckpointRoundTrip() throws {
        var tensors = [String: Tensor]()
        for i in 0..<5 { tensors["layer.\(i).weight"] = Tensor(shape: [4, 4], scalars: (0..<16).map { Float($0 + 100 * i) }) }
        let dir = TestFiles.temporaryDirectory()
        try SafetensorsCheckpoint.write(tensors, to: dir, maxShardBytes: 130)   // two 64-byte tensors per shard
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertEqual(files, ["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                               "model-00003-of-00003.safetensors", "model.safetensors.index.json"])
        let ckpt = try SafetensorsCheckpoint(contentsOf: dir)
        XCTAssertEqual(ckpt.files.count, 3)
        XCTAssertEqual(ckpt.tensorNames, tensors.keys.sorted())
        for (n, t) in tensors { XCTAssertEqual(try ckpt.tensor(named: n).scalars, t.scalars, n) }
        let index = try JSONValue.parse(Data(contentsOf: dir.appendingPathComponent("model.safetensors.index.json")), source: "index")
        XCTAssertEqual(index.objectValue?["metadata"]?.objectValue?["total_size"], .int(5 * 64))

        // A small checkpoint is one file without an index.
        let single = TestFiles.temporaryDirectory()
        try SafetensorsCheckpoint.write(tensors, to: single)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: single.path), ["model.safetensors"])
        XCTAssertEqual(try SafetensorsCheckpoint(contentsOf: single).tensorNames.count, 5)
    }

    func testBrokenIndexesAreClearErrors() throws {
        let dir = TestFiles.temporaryDirectory()
        try SafetensorsWriter.write(["a": Tensor([1])], to: dir.appendingPathComponent("s1.safetensors"))
        let index = dir.appendingPathComponent("model.safetensors.index.json")
        func writeIndex(_ s: String) throws { try Data(s.utf8).write(to: index) }

        try writeIndex(#"{"weight_map": {"a": "s2.safetensors"}}"#)
        assertFormatError(["index.json", "shard 's2.safetensors'", "missing"]) { _ = try SafetensorsCheckpoint(contentsOf: dir) }
        try writeIndex(#"{"weight_map": {"b": "s1.safetensors"}}"#)
        assertFormatError(["tensor 'b'", "does not contain it"]) { _ = try SafetensorsCheckpoint(contentsOf: dir) }
        try writeIndex(#"{"weight_map": {"a": "../s1.safetensors"}}"#)
        assertFormatError(["not a plain file name"]) { _ = try SafetensorsCheckpoint(contentsOf: dir) }
        try writeIndex(#"{"weight_map": {"a": 3}}"#)
        assertFormatError(["weight_map entry 'a'"]) { _ = try SafetensorsCheckpoint(contentsOf: dir) }
        try writeIndex(#"{"metadata": {}}"#)
        assertFormatError(["no 'weight_map'"]) { _ = try SafetensorsCheckpoint(contentsOf: dir) }
        try writeIndex(#"{"weight_map": {"a": "s1.safetensors"}}"#)
        let ok = try SafetensorsCheckpoint(contentsOf: dir)
        XCTAssertEqual(try ok.tensor(named: "a").scalars, [1])
        assertFormatError(["no tensor named 'zzz'"]) { _ = try ok.tensor(named: "zzz") }
        assertFormatError(["neither"]) { _ = try SafetensorsCheckpoint(contentsOf: TestFiles.temporaryDirectory()) }
    }

    func testCorruptFilesNameTheFileAndTensor() throws {
        let good = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        XCTAssertEqual(try SafetensorsFile(contentsOf: try rawFile(header: good, data: [UInt8](repeating: 0, count: 8))).tensorNames, ["w"])

        var url = try rawFile(header: good, data: [], lengthOverride: 1 << 40)
        assertFormatError([url.path, "header length"]) { _ = try SafetensorsFile(contentsOf: url) }
        url = TestFiles.temporaryDirectory().appendingPathComponent("short.safetensors")
        try Data([1, 2, 3]).write(to: url)
        assertFormatError(["short.safetensors", "truncated"]) { _ = try SafetensorsFile(contentsOf: url) }
        url = try rawFile(header: "{not json", data: [])
        assertFormatError(["bad.safetensors", "not valid JSON"]) { _ = try SafetensorsFile(contentsOf: url) }
        url = try rawFile(header: "[1]", data: [])
        assertFormatError(["not a JSON object"]) { _ = try SafetensorsFile(contentsOf: url) }

        let cases: [(String, [String])] = [
            (#"{"w":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}"#, ["tensor 'w'", "unknown dtype 'F33'"]),
            (#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, ["tensor 'w'", "needs 12 bytes", "span 8"]),
            (#"{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}}"#, ["tensor 'w'", "needs 4 bytes"]),
            (#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, ["tensor 'w'", "past the end"]),
            (#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, ["tensor 'w'", "out of order"]),
            (#"{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, ["tensor 'w'", "non-negative"]),
            (#"{"w":{"dtype":"F32","shape":[true],"data_offsets":[0,8]}}"#, ["tensor 'w'", "non-negative"]),
            (#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0.5,8]}}"#, ["tensor 'w'", "two integers"]),
            (#"{"w":{"dtype":"F32","shape":[2]}}"#, ["tensor 'w'", "data_offsets"]),
            (#"{"w":{"shape":[2],"data_offsets":[0,8]}}"#, ["tensor 'w'", "dtype"]),
            (#"{"w":[1]}"#, ["tensor 'w'", "not an object"]),
            (#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"v":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, ["'w'", "'v'", "overlap"]),
            (#"{"__metadata__":{"a":1}}"#, ["__metadata__", "'a'"]),
            (#"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#, ["tensor 'w'", "overflows"]),
        ]
        for (header, fragments) in cases {
            let u = try rawFile(header: header, data: [UInt8](repeating: 0, count: 8))
            assertFormatError(fragments + ["bad.safetensors"]) { _ = try SafetensorsFile(contentsOf: u) }
        }
    }

    /// The tensors must tile the data region exactly and be named once (issue 15, item 8).
    func testDataRegionMustBeTiledExactlyAndNamesUnique() throws {
        let good = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        // A header length one byte short of the padded header: the JSON still parses, every weight
        // would start one byte early.
        var url = try rawFile(header: good + " ", data: [UInt8](repeating: 0, count: 8), lengthOverride: UInt64(good.utf8.count))
        assertFormatError(["bad.safetensors", "the tensors' data ends at byte 8 but the file holds 9 data bytes after its \(good.utf8.count)-byte header"]) {
            _ = try SafetensorsFile(contentsOf: url)
        }
        url = try rawFile(header: good, data: [UInt8](repeating: 0, count: 12))
        assertFormatError(["ends at byte 8 but the file holds 12 data bytes"]) { _ = try SafetensorsFile(contentsOf: url) }
        url = try rawFile(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: [UInt8](repeating: 0, count: 8))
        assertFormatError(["bytes 0..<4 of the data belong to no tensor (before 'w')"]) { _ = try SafetensorsFile(contentsOf: url) }
        url = try rawFile(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}, "w" :{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                          data: [UInt8](repeating: 0, count: 8))
        assertFormatError(["bad.safetensors", "the header names 'w' twice"]) { _ = try SafetensorsFile(contentsOf: url) }
        // Equal names nested deeper, and names inside strings, are not duplicates.
        url = try rawFile(header: #"{"__metadata__":{"w":"{\"w\":1}","v":"w"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
                          data: [UInt8](repeating: 0, count: 8))
        XCTAssertEqual(try SafetensorsFile(contentsOf: url).tensorNames, ["w"])
    }

    func testTinyLlamaFixtureMatchesItsConfig() throws {
        let dir = TestFiles.fixtures.appendingPathComponent("tiny-llama-hf")
        let config = try ModelConfig(huggingFaceConfigAt: dir)
        let ckpt = try SafetensorsCheckpoint(contentsOf: dir)
        let h = config.hiddenSize, hd = config.headDim
        var expected: [String: [Int]] = [
            "model.embed_tokens.weight": [config.vocabSize, h],
            "model.norm.weight": [h],
        ]
        for l in 0..<config.numHiddenLayers {
            let p = "model.layers.\(l)."
            expected[p + "input_layernorm.weight"] = [h]
            expected[p + "post_attention_layernorm.weight"] = [h]
            expected[p + "self_attn.q_proj.weight"] = [config.numAttentionHeads * hd, h]
            expected[p + "self_attn.k_proj.weight"] = [config.numKeyValueHeads * hd, h]
            expected[p + "self_attn.v_proj.weight"] = [config.numKeyValueHeads * hd, h]
            expected[p + "self_attn.o_proj.weight"] = [h, config.numAttentionHeads * hd]
            expected[p + "mlp.gate_proj.weight"] = [config.intermediateSize, h]
            expected[p + "mlp.up_proj.weight"] = [config.intermediateSize, h]
            expected[p + "mlp.down_proj.weight"] = [h, config.intermediateSize]
        }
        XCTAssertTrue(config.tieWordEmbeddings, "no lm_head.weight in a tied checkpoint")
        XCTAssertEqual(ckpt.tensorNames, expected.keys.sorted())
        XCTAssertEqual(ckpt.files[0].metadata["format"], "pt")
        for name in ckpt.tensorNames {
            let t = try ckpt.tensor(named: name)
            XCTAssertEqual(t.shape, expected[name], name)
            let v = t.scalars
            XCTAssertTrue(v.allSatisfy(\.isFinite), name)
            let mean = v.reduce(0, +) / Float(v.count)
            let std = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(v.count)).squareRoot()
            if name.hasSuffix("layernorm.weight") || name == "model.norm.weight" {
                XCTAssertEqual(mean, 1, accuracy: 0.5, "\(name): RMSNorm weights start near 1")
            } else {
                XCTAssertGreaterThan(std, 1e-3, name)
                XCTAssertLessThan(std, 1, name)
            }
        }
    }

    func testPeftLoraAdapterFixture() throws {
        let dir = TestFiles.fixtures.appendingPathComponent("tiny-llama-hf/peft-lora")
        let f = try SafetensorsFile(contentsOf: dir.appendingPathComponent("adapter_model.safetensors"))
        let config = try ModelConfig(huggingFaceConfigAt: TestFiles.fixtures.appendingPathComponent("tiny-llama-hf"))
        let r = 4
        let dims: [String: (out: Int, in: Int)] = [
            "self_attn.q_proj": (32, 32), "self_attn.k_proj": (16, 32), "self_attn.v_proj": (16, 32),
            "self_attn.o_proj": (32, 32), "mlp.gate_proj": (64, 32), "mlp.up_proj": (64, 32), "mlp.down_proj": (32, 64),
        ]
        XCTAssertEqual(f.tensorInfos.count, config.numHiddenLayers * dims.count * 2)
        for l in 0..<config.numHiddenLayers {
            for (module, d) in dims {
                let p = "base_model.model.model.layers.\(l).\(module)"
                let a = try f.tensor(named: p + ".lora_A.weight"), b = try f.tensor(named: p + ".lora_B.weight")
                XCTAssertEqual(a.shape, [r, d.in], p)
                XCTAssertEqual(b.shape, [d.out, r], p)
                XCTAssertTrue(b.scalars.contains { $0 != 0 }, "\(p): B was drawn non-zero")
                XCTAssertTrue(a.scalars.allSatisfy(\.isFinite), p)
            }
        }
    }
}
