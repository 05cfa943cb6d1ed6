import Foundation
import XCTest
@testable import TemperTensor
import TemperModels

/// Block decoding and encoding against the `gguf` Python package: fixtures/quants/blocks.json
/// (made by fixtures/quants/make_blocks.py; K-format blocks are random bytes with small scales,
/// since gguf cannot quantize them, decoded by gguf's own implementation).
final class QuantizedBlockFixtureTests: XCTestCase {
    struct Case: Decodable {
        let type: String, rows: Int, columns: Int, encoded: String, values: [Float]
        let input: [Float]?
    }

    static func bytes(_ hex: String) -> [UInt8] {
        var out = [UInt8](), it = hex.makeIterator()
        while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16)!) }
        return out
    }

    func cases() throws -> [Case] {
        struct Root: Decodable { let cases: [Case] }
        let url = TestFiles.repositoryRoot.appendingPathComponent("fixtures/quants/blocks.json")
        return try JSONDecoder().decode(Root.self, from: Data(contentsOf: url)).cases
    }

    func testEveryFormatDecodesToTheValuesGGUFDecodesItTo() throws {
        let all = try cases()
        XCTAssertEqual(Set(all.map(\.type)), Set(QuantFormat.allCases.map(\.rawValue)))
        for c in all {
            let format = try XCTUnwrap(QuantFormat(rawValue: c.type))
            let raw = Self.bytes(c.encoded)
            let decoded = try raw.withUnsafeBytes { p in
                try QuantizedMatrix(format: format, rows: c.rows, columns: c.columns, bytes: p.baseAddress!, owner: self, name: c.type).dequantized().scalars
            }
            XCTAssertEqual(decoded.count, c.values.count, c.type)
            for (i, (a, b)) in zip(decoded, c.values).enumerated() { XCTAssertEqual(a, b, accuracy: 1e-6 * max(1, abs(b)), "\(c.type) value \(i)") }
        }
    }

    /// Temper's encoder writes the bytes gguf's reference quantizer writes, byte for byte.
    func testEncodingMatchesGGUFByteForByte() throws {
        for c in try cases() {
            guard let input = c.input, let format = QuantFormat(rawValue: c.type), QuantFormat.encodable.contains(format) else { continue }
            let q = try QuantizedMatrix(quantizing: Tensor(shape: [c.rows, c.columns], scalars: input), format: format, name: c.type)
            let written = [UInt8](UnsafeRawBufferPointer(start: q.base, count: q.byteCount))
            XCTAssertEqual(written, Self.bytes(c.encoded), c.type)
        }
    }
}
