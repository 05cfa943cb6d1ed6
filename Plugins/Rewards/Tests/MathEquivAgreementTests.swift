import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// math-equiv against Hugging Face's math-verify on fixtures/math-equiv-pairs.jsonl (pairs of 30
/// kinds, each labelled equivalent or not by construction, with math-verify's verdict recorded by
/// scripts/reference/math_equiv_pairs.py): Temper must give math-verify's verdict on every row.
final class MathEquivAgreementTests: XCTestCase {
    /// Scores every row of `fixture` with math-equiv and requires the verdict in the column `verdict`.
    private func assertEveryRow(of fixture: String, count: Int, match verdict: String) throws {
        TestPlugins.loadBuilt(requiring: ["math-equiv"])
        let url = TemperRepository.fixtures.appendingPathComponent(fixture)
        let rows = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        XCTAssertEqual(rows.count, count)
        let completions = try rows.map { try XCTUnwrap($0["completion"] as? String) }
        let golds = try rows.map { ColumnValue.string(try XCTUnwrap($0["answer"] as? String)) }
        let reward = try ComponentRegistry.shared.reward("math-equiv").reward
        let scores = try reward.score(RewardBatch(prompts: completions.map { _ in "" }, completions: completions, columns: ["answer": golds]))
        for (row, score) in zip(rows, scores) {
            let expected: Float = (row[verdict] as? Bool) == true ? 1 : 0
            XCTAssertEqual(score, expected, "\(row["category"] ?? ""): gold \(row["answer"] ?? "") vs \(row["completion"] ?? "")")
        }
    }

    func testMathEquivAgreesWithMathVerifyOnEveryPair() throws {
        try assertEveryRow(of: "math-equiv-pairs.jsonl", count: 81, match: "math_verify")
    }

    /// fixtures/math-equiv-regressions.jsonl: Temper's own pairs for each kind of answer math-equiv
    /// missed on Math-Verify's regression suite (scripts/reference/math_equiv_regressions.py); every
    /// row must get its label by construction (math-verify's verdict differs on one, documented in
    /// fixtures/README.md).
    func testMathEquivGetsEveryRegressionPairRight() throws {
        try assertEveryRow(of: "math-equiv-regressions.jsonl", count: 23, match: "equivalent")
    }
}
