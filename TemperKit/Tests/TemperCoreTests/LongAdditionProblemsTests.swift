import Foundation
@testable import TemperCore
import XCTest

/// `long-addition`: the worked column additions are right line by line, end in the graded sum,
/// and spell with the quickstart's character tokenizer.
final class LongAdditionProblemsTests: XCTestCase {
    func testWorkedSolutionsOnHandCases() {
        XCTAssertEqual(LongAdditionProblems.worked(247, 385), "7+5=12 so 2\n4+8+1=13 so 32\n2+3+1=6 so 632\nanswer: 632")
        XCTAssertEqual(LongAdditionProblems.worked(999, 1), "9+1=10 so 0\n9+0+1=10 so 00\n9+0+1=10 so 1000\nanswer: 1000")
        XCTAssertEqual(LongAdditionProblems.worked(12, 30), "2+0=2 so 2\n1+3=4 so 42\nanswer: 42")
    }

    func testTheFlawedSolutionDropsTheFinalCarryAndStatesAWrongSum() throws {
        let task = try TaskCatalog.make("long-addition")
        let flawable = try XCTUnwrap(task as? any FlawedDemonstrations)
        XCTAssertEqual(flawable.flaw, "the final carry dropped")
        let carried = TaskExample(prompt: "what is 826 + 347?", answer: .string("1173"), solution: LongAdditionProblems.worked(826, 347))
        let flawed = try XCTUnwrap(flawable.flawed(carried))
        XCTAssertEqual(flawed.solution, "6+7=13 so 3\n2+4+1=7 so 73\n8+3=11 so 173\nanswer: 173")
        XCTAssertEqual(flawed.prompt, carried.prompt)
        XCTAssertEqual(flawed.answer, .string("1173"), "the answer column keeps the true sum")
        XCTAssertEqual(LongAdditionProblems.worked(999, 1, droppingFinalCarry: true), "9+1=10 so 0\n9+0+1=10 so 00\n9+0+1=10 so 000\nanswer: 000")
        let reader = MathAnswerReader()
        XCTAssertFalse(reader.equivalent(try XCTUnwrap(reader.reference("1173")), try XCTUnwrap(reader.answer(in: flawed.solution))))
        // No carry out of the top column: nothing to drop.
        XCTAssertNil(flawable.flawed(TaskExample(prompt: "what is 412 + 322?", answer: .string("734"), solution: LongAdditionProblems.worked(412, 322))))
        XCTAssertNil(flawable.flawed(TaskExample(prompt: "what is the sum?", answer: .string("1"), solution: "answer: 1")))
    }

    func testEveryLineAddsItsColumnAndTheCarryAndTheAnswerIsGraded() throws {
        let task = try TaskCatalog.make("long-addition", options: [("digits", .text("4"))])
        XCTAssertEqual(task.reward, "math-equiv")
        let alphabet = Set(CharacterChatTokenizer.defaultAlphabet)
        let reader = MathAnswerReader()
        for e in try TaskDataset.generate(task, count: 100, seed: 5, split: .train) {
            let ops = e.prompt.split { !$0.isNumber }.compactMap { Int($0) }
            XCTAssertEqual(ops.count, 2, e.prompt)
            XCTAssertTrue(ops.allSatisfy { String($0).count == 4 }, e.prompt)
            XCTAssertEqual(e.answer, .string(String(ops[0] + ops[1])))
            let lines = e.solution.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.count, 5, e.solution)
            XCTAssertEqual(lines.last, "answer: \(ops[0] + ops[1])")
            var carry = 0
            let sum = ops[0] + ops[1]
            for (column, line) in lines.dropLast().enumerated() {
                let sides = line.split(separator: "=")
                let terms = sides[0].split(separator: "+").compactMap { Int($0) }
                let power = Int(pow(10, Double(column)).rounded())
                let digit = { (n: Int) in (n / power) % 10 }
                XCTAssertEqual(terms, [digit(ops[0]), digit(ops[1])] + (carry > 0 ? [carry] : []), line)
                let result = sides[1].split(separator: " ")
                XCTAssertEqual(Int(result[0]), terms.reduce(0, +), line)
                // "so D": the sum's last column + 1 digits (all of it after the last column).
                XCTAssertEqual(result.dropFirst().joined(separator: " "),
                               "so " + (column == 3 ? String(sum) : String(String(sum % (power * 10)).leftPadded(column + 1))), line)
                carry = terms.reduce(0, +) / 10
            }
            let graded = try XCTUnwrap(reader.answer(in: e.solution))
            XCTAssertTrue(reader.equivalent(try XCTUnwrap(reader.reference(String(ops[0] + ops[1]))), graded), e.solution)
            XCTAssertTrue((e.prompt + e.solution).allSatisfy(alphabet.contains), "\(e.prompt) \(e.solution)")
        }
    }
}

private extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
