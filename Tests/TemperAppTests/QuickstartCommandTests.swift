import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// `temper quickstart --recipe FILE` at a tiny size: the printed table is quickstart.json's, and the
/// closing line is the one CI looks for.
final class QuickstartCommandTests: XCTestCase {
    func testThePrintedTableIsTheOneInQuickstartJSON() throws {
        let dir = try makeTemporaryFolder("quickstart-command")
        let recipe = dir.appendingPathComponent("pipeline.yaml")
        try Data("""
            output_dir: \(dir.appendingPathComponent("run").path)
            task: long-addition:digits=1
            stages: [sft, grpo, search]
            seeds: 2
            train_problems: 30
            held_out: 4
            sft_steps: 2
            sft_batch_size: 4
            grpo_steps: 1
            prompts_per_step: 2
            num_generations: 2
            search_samples: 2
            max_new_tokens: 10
            hidden_size: 16
            layers: 1
            heads: 2
            """.utf8).write(to: recipe)
        let r = try TestSupport.temper(["quickstart", "--recipe", recipe.path, "--seeds", "1"])
        XCTAssertEqual(r.status, 0, r.err)
        let summary = try QuickstartSummary.read(from: dir.appendingPathComponent("run"))
        XCTAssertEqual(summary.seeds, [0], "--seeds overrides the recipe")
        XCTAssertEqual(summary.task, "long-addition:digits=1")
        let lines = r.out.split(separator: "\n").map(String.init)
        let header = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("STAGE ") }, r.out)
        XCTAssertEqual(lines[header].split(separator: " ", omittingEmptySubsequences: true).map(String.init),
                       ["STAGE", "PASS@1", "%", "MAJ@2", "%", "BEST-OF-2", "%", "TOKENS/ANSWER"])
        for (k, row) in summary.rows.enumerated() {
            let cells = lines[header + 1 + k].components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            let expected = [row.stage] + summary.columns.map { name -> String in
                let c = row.values[name]!, scale = name == "tokens/answer" ? 1.0 : 100.0
                return String(format: "%.1f ± %.1f", scale * c.mean, scale * c.spread)
            }
            XCTAssertEqual(cells, expected)
        }
        XCTAssertTrue(lines.contains { $0.hasPrefix("forgetting, sft: general-text perplexity ") }, r.out)
        XCTAssertEqual(lines[header + 1 + summary.rows.count], "pass@1 % by seed (0): " + summary.rows.map { row in
            row.stage + " " + String(format: "%.0f", 100 * row.values["pass@1"]!.perSeed[0])
        }.joined(separator: ", "))

        // The default flawed_demonstrations 0.6: the said count of SFT chats state a wrong sum
        // (the dropped carry), out of the said count of sums that carry out of their column.
        let sft = try String(contentsOf: dir.appendingPathComponent("run/data/sft.jsonl"), encoding: .utf8)
        var wrong = 0, carried = 0
        for line in sft.split(separator: "\n") {
            let chat = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let messages = try XCTUnwrap(chat["messages"] as? [[String: String]])
            let ops = try XCTUnwrap(messages[0]["content"]).split { !$0.isNumber }.compactMap { Int($0) }
            let stated = try XCTUnwrap(messages[1]["content"]?.components(separatedBy: "answer: ").last)
            if ops[0] + ops[1] >= 10 { carried += 1 }
            if Int(stated) != ops[0] + ops[1] { wrong += 1 }
        }
        XCTAssertEqual(wrong, Int((0.6 * Double(carried)).rounded()))
        let said = "SFT trained on deliberately flawed demonstrations: \(wrong) of the \(carried) solutions that could have it show the final carry " +
            "dropped and a wrong answer (flawed_demonstrations 0.6); GRPO's reward and every evaluation grade the true answer"
        // Said when the data are made, beside the table, and kept in quickstart.json (the report shows it).
        XCTAssertEqual(lines.filter { $0 == said }.count, 2, r.out)
        XCTAssertEqual(lines[header + 2 + summary.rows.count], said)
        XCTAssertEqual(summary.demonstrations, said)
        let last = try XCTUnwrap(lines.last)
        XCTAssertTrue(last.hasPrefix("quickstart finished in "), last)
        let pass = summary.rows.map { String(format: "%@ %.1f%%", $0.stage, 100 * $0.values["pass@1"]!.mean) }.joined(separator: " → ")
        XCTAssertTrue(last.contains(": pass@1 \(pass); table in "), last)
    }

    func testAnUnknownRecipeFieldIsNamed() throws {
        let dir = try makeTemporaryFolder("quickstart-command-bad")
        let recipe = dir.appendingPathComponent("pipeline.yaml")
        try Data("sft_step: 3\n".utf8).write(to: recipe)
        let r = try TestSupport.temper(["quickstart", "--recipe", recipe.path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("quickstart: unknown parameter 'sft_step'. Did you mean 'sft_steps'?"), r.err)
    }
}
