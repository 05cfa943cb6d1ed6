import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// length (cosine and DAPO overlong), loaded through the plugin loader, against values worked out
/// by hand from the formulas.
final class LengthRewardTests: XCTestCase {
    override func setUp() {
        TestPlugins.loadBuilt(requiring: ["length", "exact-match"])
    }

    /// Scores completions of the given token lengths; `correct` decides the text and the answer.
    private func score(_ spec: String, lengths: [Int], correct: [Bool?] = []) throws -> [Float?] {
        let reward = try ComponentRegistry.shared.reward(spec).reward
        let flags = correct.isEmpty ? lengths.map { _ in Bool?.some(true) } : correct
        let completions = flags.map { $0 == false ? "wrong" : "right" }
        let answers: [ColumnValue] = flags.map { $0 == nil ? .null : .string("right") }
        return try reward.score(RewardBatch(prompts: lengths.map { _ in "" }, completions: completions,
                                            completionTokenIDs: lengths.map { Array(repeating: 7, count: $0) },
                                            columns: ["answer": answers]))
    }

    func testCosineScheduleForCorrectAndWrongAnswers() throws {
        let spec = "length:max_len=100,correct_reward=exact-match"
        // Correct: 0.5 + 0.25·(1 + cos(π·L/100)); wrong: −0.5 − 0.25·(1 + cos(π·L/100)).
        let quarter: Float = 0.5 + 0.25 * (1 + Float(cos(Double.pi / 4)))   // 0.9267767
        let one: Float = 0.5 + 0.25 * (1 + Float(cos(Double.pi / 100)))     // 0.9998766
        assertClose(try score(spec, lengths: [1, 25, 50, 100, 150], correct: [true, true, true, true, true]),
                    [one, quarter, 0.75, 0.5, 0.5])
        assertClose(try score(spec, lengths: [1, 25, 50, 100, 150], correct: [false, false, false, false, false]),
                    [-one, -quarter, -0.75, -0.5, -0.5])
        // A row without a gold answer cannot be judged: nil.
        assertClose(try score(spec, lengths: [10, 10], correct: [nil, true]),
                    [nil, 0.5 + 0.25 * (1 + Float(cos(Double.pi / 10)))])
    }

    func testCosineCustomValuesAndPureLength() throws {
        let spec = "length:max_len=10,min_value_correct=0,max_value_correct=2,correct_reward=none"
        assertClose(try score(spec, lengths: [5, 10]), [1, 0])
        let wrongSpec = "length:max_len=10,min_value_wrong=-2,max_value_wrong=0,correct_reward=exact-match"
        assertClose(try score(wrongSpec, lengths: [5, 10], correct: [false, false]), [-1, 0])
        // Length 0 (an empty completion, which has neither tokens nor words) takes the start values.
        let empty = RewardBatch(prompts: ["", ""], completions: ["", ""], columns: ["answer": [.string(""), .string("x")]])
        assertClose(try ComponentRegistry.shared.reward(spec).reward.score(empty), [2, 2])
        assertClose(try ComponentRegistry.shared.reward(wrongSpec).reward.score(empty), [1, -2])  // row 0 is correct: default 1.0
    }

    func testOverlongPenaltyAtItsBoundaries() throws {
        let spec = "length:mode=overlong,max_completion_length=100,cache_length=20"
        // 0 up to L_max − L_cache = 80, then (80 − L)/20, then −1 beyond 100.
        assertClose(try score(spec, lengths: [0, 80, 81, 90, 99, 100, 101, 5000]),
                    [0, 0, -0.05, -0.5, -0.95, -1, -1, -1])
        // DAPO's defaults: L_max = 20480, L_cache = 4096.
        assertClose(try score("length:mode=overlong", lengths: [16384, 18432, 20480]), [0, -0.5, -1])
    }

    func testWordsStandInForMissingTokenIDs() throws {
        let reward = try ComponentRegistry.shared.reward("length:mode=overlong,max_completion_length=5,cache_length=2").reward
        let scores = try reward.score(RewardBatch(prompts: ["", ""], completions: ["a b  c\n d", "one two three four five six"]))
        assertClose(scores, [-0.5, -1])
    }

    func testBadParametersAreClearErrors() throws {
        XCTAssertThrowsError(try ComponentRegistry.shared.reward("length:mode=overlong,max_completion_length=10,cache_length=20")) { error in
            XCTAssertEqual("\(error)", "length: cache_length=20 must not exceed max_completion_length=10")
        }
        XCTAssertThrowsError(try ComponentRegistry.shared.reward("length:correct_reward=no-such-reward")) { error in
            XCTAssertTrue("\(error)".contains("no-such-reward"), "\(error)")
        }
        XCTAssertThrowsError(try ComponentRegistry.shared.reward("length:max_len=0")) { error in
            XCTAssertEqual("\(error)", "length: max_len=0 is out of range [1, ∞)")
        }
        XCTAssertThrowsError(try ComponentRegistry.shared.reward("length:correct_reward=length")) { error in
            XCTAssertEqual("\(error)", "length: correct_reward cannot be length itself")
        }
        let reward = try ComponentRegistry.shared.reward("length:correct_reward=exact-match").reward
        XCTAssertThrowsError(try reward.score(RewardBatch(prompts: [""], completions: ["x"]))) { error in
            XCTAssertEqual("\(error)", "exact-match: needs the dataset column 'answer'; the data has no extra columns")
        }
    }
}
