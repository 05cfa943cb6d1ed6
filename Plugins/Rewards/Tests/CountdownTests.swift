import TemperCore
import TemperTestSupport
import XCTest

/// The countdown reward, loaded from the built libTemperPluginRewards.so through the plugin loader.
final class CountdownTests: XCTestCase {
    override func setUp() {
        TestPlugins.loadBuilt(requiring: ["countdown"])
    }

    private func score(_ completions: [String], spec: String = "countdown", target: ColumnValue = .number(82),
                       nums: ColumnValue = .array([13, 95, 24, 23].map { .number($0) })) throws -> [Float?] {
        let reward = try ComponentRegistry.shared.reward(spec).reward
        return try reward.score(RewardBatch(prompts: completions.map { _ in "q" }, completions: completions,
                                            columns: ["target": completions.map { _ in target }, "nums": completions.map { _ in nums }]))
    }

    func testScoresFollowTheRules() throws {
        let cases: [(String, Float)] = [
            ("<think>95 - 13 = 82, times 1</think><answer>(24 - 23) * (95 - 13)</answer>", 1),
            ("<answer> (95 − 13) × (24 − 23) = 82 </answer>", 1),                // unicode operators, "= target" dropped
            ("(95 - 13) / (24 - 23)", 1),                                         // untagged: the last line
            ("95 + 13 is too big.\n\n(95 - 13) * (24 - 23) = 82.\n", 1),            // last non-empty line, sentence stop dropped
            ("So the answer: (95 - 13) * (24 - 23)", 0),                          // a last line in prose is no answer
            ("<answer>95 - 13</answer>", 0.1),                                    // right value, numbers left out
            ("<answer>(95 - 13) * (24 - 23) * 1</answer>", 0.1),                  // a number not given
            ("<answer>(95 - 13) * (24 / 24)</answer>", 0.1),                      // 24 used twice, 23 unused
            ("<answer>95 + 13 + 24 + 23</answer>", 0.1),                          // wrong value
            ("<answer>the answer is 82</answer>", 0.1),                           // tagged but not an expression
            ("<answer>82</answer>", 0.1),
            ("the answer is 82", 0),                                              // untagged prose: no answer
            ("", 0),
            ("<answer>(24 - 23) * (95 - 13)", 0),                                 // unclosed tag, last line is not an expression
        ]
        let scores = try score(cases.map(\.0))
        for (k, c) in cases.enumerated() { XCTAssertEqual(scores[k], c.1, c.0) }
        // The last tagged answer counts, not one mentioned earlier.
        XCTAssertEqual(try score(["<answer>(24 - 23) * (95 - 13)</answer> wait, no: <answer>95 + 13</answer>"]), [0.1])
    }

    func testExactArithmeticAndOptions() throws {
        // (7 / 3) * 3 is exactly 7; float evaluation would give 7.000000000000001.
        XCTAssertEqual(try score(["<answer>(7 / 3) * 3</answer>", "<answer>7 / 3 * 3 + 0</answer>"],
                                 target: .number(7), nums: .array([.number(7), .number(3), .number(3)])), [1, 0.1])
        XCTAssertEqual(try score(["<answer>95 - 13</answer>", "<answer>95 - 95</answer>"], spec: "countdown:use_all=false"), [1, 0.1])
        XCTAssertEqual(try score(["<answer>95 + 13</answer>"], spec: "countdown:format_score=0"), [0])
        XCTAssertEqual(try score(["(95 - 13) * (24 - 23)", "<answer>(95 - 13) * (24 - 23)</answer>"], spec: "countdown:require_tags=true"), [0, 1])
        XCTAssertEqual(try score(["<answer>(95 - 13) * (24 - 23)</answer>"], target: .string("82"),
                                 nums: .array([.string("13"), .number(95), .number(24), .number(23)])), [1])
    }

    func testRowsWithoutDataAreNilAndBadCellsAreErrors() throws {
        XCTAssertEqual(try score(["<answer>1 + 2</answer>"], target: .null), [nil])
        XCTAssertEqual(try score(["<answer>1 + 2</answer>"], nums: .null), [nil])
        XCTAssertThrowsError(try score(["x"], nums: .array([.number(1.5)]))) { error in
            XCTAssertEqual("\(error)", "countdown: row 0: column 'nums' must be a list of integers, got [1.5]")
        }
        XCTAssertThrowsError(try score(["x"], target: .string("many"))) { error in
            XCTAssertEqual("\(error)", #"countdown: row 0: column 'target' must be an integer, got "many""#)
        }
        let reward = try ComponentRegistry.shared.reward("countdown").reward
        XCTAssertThrowsError(try reward.score(RewardBatch(prompts: ["q"], completions: ["c"], columns: ["target": [.number(3)]]))) { error in
            XCTAssertEqual("\(error)", "countdown: needs the dataset column 'nums'; the data has target")
        }
    }

    func testEveryGeneratedProblemIsSolvedByItsSolution() throws {
        let task = try TaskCatalog.make("countdown", options: [("count", .text("5"))])
        let examples = try TaskDataset.generate(task, count: 300, seed: 11, split: .train)
        let batch = RewardBatch(prompts: examples.map(\.prompt), completions: examples.map(\.solution),
                                columns: ["target": examples.map { $0.column("target")! }, "nums": examples.map { $0.column("nums")! }])
        let reward = try ComponentRegistry.shared.reward(task.reward).reward
        XCTAssertEqual(try reward.score(batch), [Float?](repeating: 1, count: 300))
        // Shuffling the targets breaks almost every one.
        var wrong = batch
        wrong.columns["target"] = Array(batch.columns["target"]!.dropFirst()) + [batch.columns["target"]![0]]
        XCTAssertLessThan(try reward.score(wrong).compactMap { $0 }.filter { $0 == 1 }.count, 30)
    }
}
