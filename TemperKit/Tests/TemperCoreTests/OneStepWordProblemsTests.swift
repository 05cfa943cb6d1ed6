import Foundation
import TemperCore
import XCTest

/// `one-step-word-problems`: one operation, numbers within `max`, a solution the extractor reads.
final class OneStepWordProblemsTests: XCTestCase {
    private func examples(_ options: [(String, String)] = [], n: Int = 400) throws -> [TaskExample] {
        let task = try TaskCatalog.make("one-step-word-problems", options: options.map { ($0.0, .text($0.1)) })
        return try TaskDataset.generate(task, count: n, seed: 3, split: .train)
    }

    func testEachSolutionIsOneCorrectOperationWithinMax() throws {
        let equation = try NSRegularExpression(pattern: #"^(\d+) ([-+*/]) (\d+) = (\d+)\.\nThe answer is (\d+)\.$"#)
        for largest in [20, 100] {
            var operations = Set<String>()
            for e in try examples([("max", String(largest))]) {
                let ns = e.solution as NSString
                guard let m = equation.firstMatch(in: e.solution, range: NSRange(location: 0, length: ns.length)) else {
                    return XCTFail("solution not of the form 'a op b = r.\\nThe answer is r.': \(e.solution)")
                }
                func number(_ group: Int) -> Int { Int(ns.substring(with: m.range(at: group)))! }
                let a = number(1), b = number(3), r = number(4), op = ns.substring(with: m.range(at: 2))
                operations.insert(op)
                switch op {
                case "+": XCTAssertEqual(a + b, r); XCTAssertLessThanOrEqual(r, largest)
                case "-": XCTAssertEqual(a - b, r); XCTAssertLessThanOrEqual(a, largest); XCTAssertGreaterThan(r, 0)
                case "*": XCTAssertEqual(a * b, r); XCTAssertLessThanOrEqual(r, largest); XCTAssertLessThanOrEqual(max(a, b), 9)
                default: XCTAssertEqual(b * r, a); XCTAssertLessThanOrEqual(a, largest); XCTAssertLessThanOrEqual(r, 9)
                }
                XCTAssertEqual(number(5), r, e.solution)
                XCTAssertEqual(e.answer, .string(String(r)))
                XCTAssertTrue(e.prompt.contains(" \(a) ") && e.prompt.contains(" \(b) "), e.prompt)
                XCTAssertTrue(e.prompt.hasSuffix("?"), e.prompt)
            }
            XCTAssertEqual(operations, ["+", "-", "*", "/"], "max \(largest)")
        }
    }

    func testSolutionsEarnFullMathEquivCreditAndWrongOnesNone() throws {
        let reader = MathAnswerReader()
        for e in try examples(n: 50) {
            guard case .string(let cell) = e.answer, let reference = reader.reference(cell),
                  let answer = reader.answer(in: e.solution) else { return XCTFail("unreadable: \(e.solution)") }
            XCTAssertTrue(reader.equivalent(reference, answer), e.solution)
            let wrong = e.solution.replacingOccurrences(of: "is \(cell).", with: "is \(Int(cell)! + 1).")
            XCTAssertFalse(reader.equivalent(reference, try XCTUnwrap(reader.answer(in: wrong))), wrong)
        }
    }

    func testMaxOutOfRangeIsNamed() {
        XCTAssertThrowsError(try examples([("max", "3")], n: 1)) { error in
            XCTAssertTrue("\(error)".hasPrefix("one-step-word-problems: max"), "\(error)")
        }
    }
}
