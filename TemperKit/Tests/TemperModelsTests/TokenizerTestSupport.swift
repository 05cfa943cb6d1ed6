import Foundation
import XCTest
@testable import TemperModels

/// Shared access to the reference fixtures for the tokenizer tests.
enum TokenizerFixtures {
    /// The repository's `fixtures/` folder.
    static let root: URL = TestFiles.fixtures

    /// The Hugging Face directory whose tokenizer is SmolLM2's.
    static let tinyLlamaDirectory = root.appendingPathComponent("tiny-llama-hf")

    /// SmolLM2's tokenizer loaded from `tokenizer.json`, parsed once for all tests.
    static let smolTokenizer: Result<Tokenizer, Error> = Result { try Tokenizer(directory: tinyLlamaDirectory) }

    /// The parsed `tokenizer.json`, for tests that rebuild the tokenizer another way.
    static let smolTokenizerJSON: Result<[String: Any], Error> = Result {
        try TokenizerDefinition.readJSONObject(tinyLlamaDirectory.appendingPathComponent("tokenizer.json"))
    }

    /// One case of `smollm2/tokenizer.json`: a string or a chat, with its reference ids.
    struct Case {
        var text: String?
        var chat: [ChatMessage]?
        var rendered: String?
        var ids: [Int32]
    }

    static func smolCases() throws -> [Case] {
        let url = root.appendingPathComponent("smollm2/tokenizer.json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let cases = try XCTUnwrap(object["cases"] as? [[String: Any]])
        return try cases.map { entry in
            let ids = try XCTUnwrap(entry["ids"] as? [NSNumber]).map { Int32(truncating: $0) }
            let chat = (entry["chat"] as? [[String: String]])?.map { ChatMessage(role: $0["role"]!, content: $0["content"]!) }
            return Case(text: entry["text"] as? String, chat: chat, rendered: entry["rendered"] as? String, ids: ids)
        }
    }
}
