import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// math-equiv against Hugging Face's math-verify on fixtures/math-equiv-pairs.jsonl (pairs of 30
/// kinds, each labelled equivalent or not by construction, with math-verify's verdict recorded by
/// scripts/reference/math_equiv_pairs.py): Temper must give math-verify's verdict on every row.
final class MathEquivAgreementTests: XCTestCase {
    func testMathEquivAgreesWithMathVerifyOnEveryPair() throws {
        TestPlugins.loadBuilt(requiring: ["math-equiv"])
        let url = TemperRepository.fixtures.appendingPathComponent("math-equiv-pairs.jsonl")
        let rows = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        XCTAssertEqual(rows.count, 81)
        let completions = try rows.map { try XCTUnwrap($0["completion"] as? String) }
        let golds = try rows.map { ColumnValue.string(try XCTUnwrap($0["answer"] as? String)) }
        let reward = try ComponentRegistry.shared.reward("math-equiv").reward
        let scores = try reward.score(RewardBatch(prompts: completions.map { _ in "" }, completions: completions, columns: ["answer": golds]))
        for (row, score) in zip(rows, scores) {
            let verdict: Float = (row["math_verify"] as? Bool) == true ? 1 : 0
            XCTAssertEqual(score, verdict, "\(row["category"] ?? ""): gold \(row["answer"] ?? "") vs \(row["completion"] ?? "")")
        }
    }
}
