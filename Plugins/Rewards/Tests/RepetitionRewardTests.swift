import TemperCore
import TemperTestSupport
import XCTest

/// repetition, loaded through the plugin loader, against hand-counted n-grams.
final class RepetitionRewardTests: XCTestCase {
    override func setUp() {
        TestPlugins.loadBuilt(requiring: ["repetition"])
    }

    private func score(_ spec: String, _ completions: [String], tokens: [[Int32]] = []) throws -> [Float?] {
        let reward = try ComponentRegistry.shared.reward(spec).reward
        return try reward.score(RewardBatch(prompts: completions.map { _ in "" }, completions: completions, completionTokenIDs: tokens))
    }

    func testWordNGrams() throws {
        // Bigrams of "a b a b a b": 5, distinct 2 → −(1 − 2/5) = −0.6. All distinct → 0.
        assertClose(try score("repetition:ngram_size=2", ["a b a b a b", "the cat sat on the mat", "a b"]), [-0.6, 0, 0])
        // Case is ignored: "A a a a" has trigrams (a a a) twice → 1 − 1/2, scaled by −0.5.
        assertClose(try score("repetition:ngram_size=3,max_penalty=-0.5", ["A a a a", "too short"]), [-0.25, 0])
        assertClose(try score("repetition:ngram_size=1", ["x x y", ""]), [-1.0 / 3, 0])
        // Default n = 3: "go go go go go" has 3 trigrams, 1 distinct → −2/3.
        assertClose(try score("repetition", ["go go go go go"]), [-2.0 / 3])
    }

    func testTokenNGrams() throws {
        // Bigrams of 1 2 1 2: (1,2) (2,1) (1,2) → −1/3; without token ids the words count.
        assertClose(try score("repetition:ngram_size=2,unit=tokens", ["ignored text here", "p q p q"], tokens: [[1, 2, 1, 2], []]),
                    [-1.0 / 3, -1.0 / 3])
    }

    func testBadParametersAreClearErrors() throws {
        XCTAssertThrowsError(try ComponentRegistry.shared.reward("repetition:max_penalty=0.5")) { error in
            XCTAssertEqual("\(error)", "repetition: max_penalty=0.5 is out of range (-∞, 0]")
        }
        XCTAssertThrowsError(try ComponentRegistry.shared.reward("repetition:ngram_size=0")) { error in
            XCTAssertEqual("\(error)", "repetition: ngram_size=0 is out of range [1, ∞)")
        }
    }
}
