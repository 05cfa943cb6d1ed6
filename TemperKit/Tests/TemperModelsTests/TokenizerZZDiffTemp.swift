import Foundation
import XCTest
@testable import TemperModels

final class TokenizerZZDiffTemp: XCTestCase {
    func testSpeed() throws {
        let corpus = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "/tmp/tokdiff/corpus.json"))) as! [String]
        var text = corpus.joined(separator: "\n")
        while text.utf8.count < 1_000_000 { text += text }
        text = String(decoding: Array(text.utf8.prefix(1_000_000)), as: UTF8.self)
        for name in ["A", "B"] {
            let t = try Tokenizer(directory: URL(fileURLWithPath: "/tmp/tokdiff/\(name)"))
            let start = Date()
            let ids = t.encode(text)
            let dt = Date().timeIntervalSince(start)
            print("config \(name): \(text.utf8.count) bytes -> \(ids.count) tokens in \(dt) s = \(Double(ids.count)/dt) tok/s")
            let d0 = Date(); let back = t.decode(ids); print("decode \(Date().timeIntervalSince(d0)) s ok=\(back == text)")
        }
        let t = try Tokenizer(directory: URL(fileURLWithPath: "/tmp/tokdiff/A"))
        let long = String(repeating: "abcdefghij", count: 20_000)
        let s2 = Date(); let n = t.encode(long).count
        print("one 200KB word: \(n) tokens in \(Date().timeIntervalSince(s2)) s")
        let aaa = String(repeating: "a", count: 200_000)
        let s3 = Date(); let n3 = t.encode(aaa).count
        print("200K 'a': \(n3) tokens in \(Date().timeIntervalSince(s3)) s")
    }
}
