import Foundation
import XCTest
@testable import TemperModels
import TemperTensor

final class GGUFTests: XCTestCase {
    /// Asserts `body` throws a `ModelFormatError` whose message contains every fragment.
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

    func smallModel() -> GGUFBuilder {
        var b = GGUFBuilder()
        b.add("general.architecture", .string("llama"))
        b.add("llama.block_count", .uint32(1))
        b.add("tokenizer.ggml.tokens", .array(.string, ["a", "b", "c"].map { .string($0) }))
        b.addF32("first", shape: [2, 3], [1, 2, 3, 4, 5, 6])
        b.addF32("second", shape: [4], [-1, -2, -3, -4])
        return b
    }

    func testMetadataOfEveryValueTypeRoundTrips() throws {
        let values: [(String, GGUFValue)] = [
            ("u8", .uint8(200)), ("i8", .int8(-100)), ("u16", .uint16(60000)), ("i16", .int16(-30000)),
            ("u32", .uint32(4_000_000_000)), ("i32", .int32(-2_000_000_000)),
            ("u64", .uint64(10_000_000_000_000)), ("i64", .int64(-9_000_000_000_000)),
            ("f32", .float32(0.25)), ("f64", .float64(-1e-300)), ("t", .bool(true)), ("f", .bool(false)),
            ("s", .string("héllo ✓")), ("empty", .string("")),
            ("ints", .array(.int32, [.int32(1), .int32(-2), .int32(3)])),
            ("floats", .array(.float32, [.float32(0.5), .float32(-1.5)])),
            ("strings", .array(.string, [.string("x"), .string("Ġy")])),
            ("nested", .array(.array, [.array(.uint8, [.uint8(1)]), .array(.uint8, [])])),
        ]
        for version: UInt32 in [2, 3] {
            var b = GGUFBuilder()
            b.version = version
            for (k, v) in values { b.add(k, v) }
            let g = try GGUFFile(contentsOf: try b.write())
            XCTAssertEqual(g.version, Int(version))
            XCTAssertEqual(g.metadata.keys, values.map(\.0))
            for (k, v) in values { XCTAssertEqual(g.metadata[k], v, k) }
            XCTAssertEqual(try g.metadata.int("u64"), 10_000_000_000_000)
            XCTAssertEqual(try g.metadata.int("i8"), -100)
            XCTAssertEqual(try g.metadata.double("f32"), 0.25)
            XCTAssertEqual(try g.metadata.double("u16"), 60000)
            XCTAssertEqual(try g.metadata.bool("t"), true)
            XCTAssertEqual(try g.metadata.string("s"), "héllo ✓")
            XCTAssertEqual(try g.metadata.intArray("ints"), [1, -2, 3])
            XCTAssertEqual(try g.metadata.floatArray("floats"), [0.5, -1.5])
            XCTAssertEqual(try g.metadata.stringArray("strings"), ["x", "Ġy"])
            XCTAssertEqual(try g.metadata.arrayCount("strings"), 2)
            XCTAssertNil(try g.metadata.stringIfPresent("absent"))
            XCTAssertEqual(g.tensorInfos.count, 0)
        }
    }

    func testTypedAccessorsNameTheKeyOnMismatch() throws {
        var b = GGUFBuilder()
        b.add("name", .string("x"))
        b.add("big", .uint64(UInt64.max))
        b.add("list", .array(.string, [.string("a")]))
        let g = try GGUFFile(contentsOf: try b.write())
        assertFormatError(["'name'", "is string, expected an integer"]) { _ = try g.metadata.int("name") }
        assertFormatError(["'missing.key'", "is missing"]) { _ = try g.metadata.string("missing.key") }
        assertFormatError(["'big'"]) { _ = try g.metadata.int("big") }
        assertFormatError(["'list'", "array of string", "an array of integers"]) { _ = try g.metadata.intArray("list") }
        assertFormatError(["'big'", "is uint64, expected a string"]) { _ = try g.metadata.stringIfPresent("big") }
    }

    func testTensorInfosAlignmentAndF32Data() throws {
        var b = smallModel()
        b.alignment = 64
        b.add("general.alignment", .uint32(64))
        let g = try GGUFFile(contentsOf: try b.write())
        XCTAssertEqual(g.alignment, 64)
        XCTAssertEqual(g.dataOffset % 64, 0)
        let first = try XCTUnwrap(g.tensorInfo(named: "first"))
        XCTAssertEqual(first.dimensions, [3, 2])
        XCTAssertEqual(first.shape, [2, 3])
        XCTAssertEqual(first.type, .f32)
        XCTAssertEqual(g.tensorInfo(named: "second")?.offset, 64)
        let t = try g.tensor(named: "first")
        XCTAssertEqual(t.shape, [2, 3])
        XCTAssertEqual(t.scalars, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try g.tensor(named: "second").scalars, [-1, -2, -3, -4])
        assertFormatError(["no tensor named 'third'"]) { _ = try g.tensor(named: "third") }
    }

    func testBorrowedTensorOutlivesTheFileObject() throws {
        let url = try smallModel().write()
        var t: Tensor?
        do {
            let g = try GGUFFile(contentsOf: url)
            t = try g.tensor(named: "first")
        }
        // The GGUFFile is gone; the tensor's storage still owns the mapping.
        XCTAssertEqual(t?.scalars, [1, 2, 3, 4, 5, 6])
        // Writes go to a private copy, never to the file.
        t!.floatPointer[0] = 42
        XCTAssertEqual(try GGUFFile(contentsOf: url).tensor(named: "first").scalars[0], 1)
    }

    func testEveryTruncationIsAnErrorNotACrash() throws {
        let built = smallModel().build()
        let dir = TestFiles.temporaryDirectory()
        let url = dir.appendingPathComponent("cut.gguf")
        for n in 0..<built.bytes.count {
            try Data(built.bytes[0..<n]).write(to: url)
            XCTAssertThrowsError(try GGUFFile(contentsOf: url), "prefix of \(n) bytes") { e in
                XCTAssertTrue(e is ModelFormatError, "prefix \(n): \(e)")
            }
        }
        try Data(built.bytes).write(to: url)
        XCTAssertNoThrow(try GGUFFile(contentsOf: url))
    }

    func testTruncatedTensorDataNamesTheTensor() throws {
        let built = smallModel().build()
        let url = TestFiles.temporaryDirectory().appendingPathComponent("cut.gguf")
        try Data(built.bytes.dropLast(4)).write(to: url)
        assertFormatError(["tensor 'second'", "runs past the end"]) { _ = try GGUFFile(contentsOf: url) }
    }

    func testCorruptHeadersAreClearErrors() throws {
        var b = smallModel()
        b.magic = Array("GGML".utf8)
        assertFormatError(["not a GGUF file"]) { _ = try GGUFFile(contentsOf: try b.write()) }

        b = smallModel(); b.version = 1
        assertFormatError(["version 1 is not supported"]) { _ = try GGUFFile(contentsOf: try b.write()) }
        b = smallModel(); b.version = 3 << 24
        assertFormatError(["big-endian"]) { _ = try GGUFFile(contentsOf: try b.write()) }

        b = smallModel(); b.tensorCountOverride = 1 << 40
        assertFormatError(["tensor count"]) { _ = try GGUFFile(contentsOf: try b.write()) }
        b = smallModel(); b.metadataCountOverride = UInt64.max
        assertFormatError(["metadata count", "out of range"]) { _ = try GGUFFile(contentsOf: try b.write()) }
        b = smallModel(); b.metadataCountOverride = 1 << 30
        assertFormatError(["metadata count"]) { _ = try GGUFFile(contentsOf: try b.write()) }

        b = smallModel()
        var hugeString = [UInt8](); GGUFBuilder.append(UInt64(1) << 50, to: &hugeString)
        b.metadata.insert(("general.name", GGUFValueType.string.rawValue, hugeString), at: 0)
        assertFormatError(["general.name", "truncated"]) { _ = try GGUFFile(contentsOf: try b.write()) }

        b = smallModel()
        var hugeArray = [UInt8](); GGUFBuilder.append(GGUFValueType.uint32.rawValue, to: &hugeArray)
        GGUFBuilder.append(UInt64(1) << 60, to: &hugeArray)
        b.metadata.insert(("tokenizer.ggml.token_type", GGUFValueType.array.rawValue, hugeArray), at: 0)
        assertFormatError(["tokenizer.ggml.token_type", "cannot fit"]) { _ = try GGUFFile(contentsOf: try b.write()) }

        b = smallModel()
        b.metadata.insert(("weird", 99, []), at: 0)
        assertFormatError(["'weird'", "unknown value type 99"]) { _ = try GGUFFile(contentsOf: try b.write()) }

        b = smallModel()
        b.metadata.insert(("flag", GGUFValueType.bool.rawValue, [7]), at: 0)
        assertFormatError(["'flag'", "bool byte is 7"]) { _ = try GGUFFile(contentsOf: try b.write()) }

        b = smallModel()
        b.metadata.insert(("bad.utf8", GGUFValueType.string.rawValue, [2, 0, 0, 0, 0, 0, 0, 0, 0xC3, 0x28]), at: 0)
        assertFormatError(["'bad.utf8'", "not valid UTF-8"]) { _ = try GGUFFile(contentsOf: try b.write()) }

        b = smallModel()
        b.add("dup", .uint8(1)); b.add("dup", .uint8(2))
        assertFormatError(["'dup' appears twice"]) { _ = try GGUFFile(contentsOf: try b.write()) }

        b = smallModel(); b.add("general.alignment", .uint32(48))
        assertFormatError(["general.alignment", "power of two"]) { _ = try GGUFFile(contentsOf: try b.write()) }
        b = smallModel(); b.add("general.alignment", .string("32"))
        assertFormatError(["general.alignment", "expected uint32"]) { _ = try GGUFFile(contentsOf: try b.write()) }

        // Arrays nested deeper than the limit.
        var deep = GGUFValue.array(.uint8, [])
        for _ in 0..<10 { deep = .array(.array, [deep]) }
        b = smallModel(); b.add("deep", deep)
        assertFormatError(["'deep'", "nested deeper"]) { _ = try GGUFFile(contentsOf: try b.write()) }
    }

    func testCorruptTensorInfosNameTheTensor() throws {
        var b = smallModel(); b.tensors[1].nDimsOverride = 5
        assertFormatError(["tensor 'second'", "5 dimensions"]) { _ = try GGUFFile(contentsOf: try b.write()) }
        b = smallModel(); b.tensors[1].dims = [0]
        assertFormatError(["tensor 'second'", "size 0"]) { _ = try GGUFFile(contentsOf: try b.write()) }
        b = smallModel(); b.tensors[1].typeRaw = 77
        assertFormatError(["tensor 'second'", "unknown GGML type 77"]) { _ = try GGUFFile(contentsOf: try b.write()) }
        b = smallModel(); b.tensors[1].offsetOverride = 4
        assertFormatError(["tensor 'second'", "not a multiple of the alignment"]) { _ = try GGUFFile(contentsOf: try b.write()) }
        b = smallModel(); b.tensors[1].offsetOverride = 1 << 40
        assertFormatError(["tensor 'second'", "runs past the end"]) { _ = try GGUFFile(contentsOf: try b.write()) }
        b = smallModel(); b.tensors[1].dims = [1 << 31, 1 << 31, 1 << 31]
        assertFormatError(["tensor 'second'", "overflows"]) { _ = try GGUFFile(contentsOf: try b.write()) }
        b = smallModel(); b.tensors[1].dims = [1 << 20, 1 << 20]
        assertFormatError(["tensor 'second'", "runs past the end"]) { _ = try GGUFFile(contentsOf: try b.write()) }
        b = smallModel(); b.tensors[1].typeRaw = GGMLType.q8_0.rawValue; b.tensors[1].dims = [40]
        assertFormatError(["tensor 'second'", "not a multiple of the Q8_0 block size 32"]) { _ = try GGUFFile(contentsOf: try b.write()) }
        b = smallModel(); b.tensors[1].name = "first"
        assertFormatError(["tensor 'first' appears twice"]) { _ = try GGUFFile(contentsOf: try b.write()) }
        b = smallModel(); b.addF32("third", shape: [8], [Float](repeating: 0, count: 8)); b.tensors[2].offsetOverride = 0
        assertFormatError(["overlap"]) { _ = try GGUFFile(contentsOf: try b.write()) }
        b = smallModel(); b.tensors[1].typeRaw = GGMLType.q8_K.rawValue; b.tensors[1].dims = [256]
        b.tensors[1].data = [UInt8](repeating: 0, count: GGMLType.q8_K.typeSize)
        let g = try GGUFFile(contentsOf: try b.write())
        assertFormatError(["tensor 'second'", "Q8_K", "cannot dequantize"]) { _ = try g.tensor(named: "second") }
    }
}
