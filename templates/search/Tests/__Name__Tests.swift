import TemperCore
import XCTest

/// Loads the built plugin the way `temper` does and searches with a scripted model.
final class __Name__Tests: XCTestCase {
    override class func setUp() {
        _ = PluginLoader.shared.load(.standard())
    }

    /// Answers the k-th sample of every prompt with "k", one token per character.
    final class CountingModel: LanguageModelHandle {
        var usage = ComputeUsage()
        var endOfSequenceTokenIDs: [Int32] { [0] }
        func tokenize(_ text: String) throws -> [Int32] { text.unicodeScalars.map { Int32($0.value) } }
        func detokenize(_ ids: [Int32]) throws -> String { String(String.UnicodeScalarView(ids.compactMap { Unicode.Scalar(UInt32($0)) })) }
        func generate(prompts: [[Int32]], options: GenerationOptions) throws -> [[GeneratedSequence]] {
            try prompts.map { _ in
                try (0..<options.numReturnSequences).map { k in
                    usage.tokensGenerated += 1
                    usage.forwardPasses += 1
                    let ids = try tokenize(String(k))
                    return GeneratedSequence(tokenIDs: ids, text: String(k), tokenLogprobs: [-1], finishReason: .eos)
                }
            }
        }
        func logprobs(prompt: [Int32], continuation: [Int32]) throws -> [Float] { continuation.map { _ in -1 } }
    }

    /// Scores a completion by how close its number is to the `target` column.
    struct Closeness: RewardScoring {
        func score(_ batch: RewardBatch) throws -> [Float?] {
            try zip(batch.completions, batch.column("target", for: "closeness")).map { c, t in
                guard case .number(let target) = t, let v = Double(c) else { return nil }
                return Float(-abs(v - target))
            }
        }
    }

    func testReturnsCandidatesBestFirstWithUsage() throws {
        let search = try ComponentRegistry.shared.search("__component__:n=5")
        let result = try search.search(SearchRequest(model: CountingModel(), prompts: ["a", "b"],
                                                     columns: ["target": [.number(3), .number(0)]], verifier: Closeness()))
        XCTAssertEqual(result.candidates.map { $0.first?.sequence.text }, ["3", "0"])
        XCTAssertEqual(result.candidates[0].map(\.score), [0, -1, -1, -2, -3])
        XCTAssertEqual(result.usage, ComputeUsage(tokensGenerated: 10, forwardPasses: 10))
    }
}
