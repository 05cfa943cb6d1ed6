import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// report.html: the SVG line chart on hand cases, the sections a folder's contents select, HTML
/// escaping, overlays, the errors for folders without a run, and `temper train` / `temper report`.
final class RunReportTests: XCTestCase {
    // MARK: - Axis ticks and the SVG writer

    func testTicksAreNiceStepsWithShortLabels() {
        XCTAssertEqual(AxisTicks.niceStep(span: 7), 2)
        XCTAssertEqual(AxisTicks.niceStep(span: 0.84), 0.2, accuracy: 1e-15)
        XCTAssertEqual(AxisTicks.niceStep(span: 2e-4, target: 4), 5e-5, accuracy: 1e-18)
        let axis = AxisTicks.linear(lo: 0.13, hi: 0.97)
        XCTAssertEqual(axis.lo, 0)
        XCTAssertEqual(axis.hi, 1, accuracy: 1e-12)
        XCTAssertEqual(axis.ticks.map { AxisTicks.label($0, step: 0.2) }, ["0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        XCTAssertEqual(AxisTicks.label(40, step: 10), "40")
        XCTAssertEqual(AxisTicks.label(0.0002, step: 0.0001), "0.0002")
        XCTAssertEqual(AxisTicks.label(1e-5, step: 1e-5), "1e-5")
        XCTAssertEqual(AxisTicks.label(2_500_000, step: 500_000), "2.5e6")
        XCTAssertEqual(AxisTicks.label(3 * 0.1, step: 0.1), "0.3")
        // Close ticks of a large value keep the digits that tell them apart.
        XCTAssertEqual(AxisTicks.label(10.79642, step: 0.00001), "10.79642")
        XCTAssertEqual(AxisTicks.linear(lo: 2, hi: 3, target: 6, minStep: 1).ticks, [2, 3])
    }

    func testChartScalesPointsAndSkipsNonFiniteValues() throws {
        // 600 × 300 with a 200 px legend: plot from x 64 over 336 px, from y 34 over 220 px.
        let chart = LineChart(title: "loss", xLabel: "step", yLabel: "loss", series: [
            .init(name: "a", colour: "#0072B2", points: [(0, 0, nil), (10, 1, nil), (5, .nan, nil), (.infinity, 3, nil), (7, -.infinity, nil)]),
        ])
        let svg = try XCTUnwrap(chart.svg())
        // x 0…10 in steps of 2, y 0…1 in steps of 0.2: (0, 0) at (64, 254), (10, 1) at (400, 34).
        XCTAssertTrue(svg.contains("<polyline points=\"64.0,254.0 400.0,34.0\" fill=\"none\" stroke=\"#0072B2\" stroke-width=\"2\"/>"), svg)
        XCTAssertEqual(svg.components(separatedBy: "<circle").count - 1, 2)
        for tick in ["0", "2", "4", "6", "8", "10"] { XCTAssertTrue(svg.contains("text-anchor=\"middle\" fill=\"#333\">\(tick)</text>"), tick) }
        for tick in ["0", "0.2", "0.4", "0.6", "0.8", "1.0"] { XCTAssertTrue(svg.contains("text-anchor=\"end\" fill=\"#333\">\(tick)</text>"), tick) }
        XCTAssertFalse(svg.lowercased().contains("nan"))
        XCTAssertFalse(svg.lowercased().contains("inf"))
    }

    func testSinglePointIsAMarkerInTheMiddle() throws {
        let chart = LineChart(title: "t", xLabel: "step", yLabel: "y", series: [.init(name: "one", colour: "#D55E00", points: [(3, 2, nil)])])
        let svg = try XCTUnwrap(chart.svg())
        // x widened to 2…4 and y to 1…3: the point sits at the plot's centre (64 + 168, 34 + 110), x ticks whole steps.
        XCTAssertTrue(svg.contains("<circle cx=\"232.0\" cy=\"144.0\" r=\"4\" fill=\"#D55E00\">"), svg)
        XCTAssertFalse(svg.contains("<polyline"))
        XCTAssertEqual(svg.components(separatedBy: "text-anchor=\"middle\" fill=\"#333\">").count - 1, 4, "ticks 2, 3, 4 and the x label")
        XCTAssertTrue(svg.contains(">3</text>"))
    }

    func testChartWithoutFinitePointsIsLeftOut() {
        XCTAssertNil(LineChart(title: "t", xLabel: "x", yLabel: "y", series: []).svg())
        XCTAssertNil(LineChart(title: "t", xLabel: "x", yLabel: "y", series: [.init(name: "n", colour: "#000", points: [(1, .nan, nil)])]).svg())
        var log = LineChart(title: "t", xLabel: "x", yLabel: "y", series: [.init(name: "n", colour: "#000", points: [(0, 0.5, nil)])])
        log.logX = true
        XCTAssertNil(log.svg(), "x = 0 has no place on a log axis")
    }

    func testHTMLEscaping() {
        XCTAssertEqual(HTMLText.escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;")
        XCTAssertEqual(HTMLText.escape("plain · text"), "plain · text")
    }

    // MARK: - Sections by folder contents

    private func folder(_ name: String, in parent: URL, files: [String: String]) throws -> URL {
        let dir = parent.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (file, text) in files {
            let url = dir.appendingPathComponent(file)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        return dir
    }

    private let sftMetrics = """
        {"epoch": 0.5, "grad_norm": 2.5, "learning_rate": 0.001, "loss": 3.0, "num_tokens": 100, "step": 1, "tokens_per_second": 400.0}
        {"epoch": 1.0, "grad_norm": 1.5, "learning_rate": 0.0005, "loss": 2.0, "num_tokens": 200, "step": 2, "tokens_per_second": 500.0}
        {"epoch": 1.0, "eval_loss": 2.25, "step": 2}

        """

    private let rlMetrics = """
        {"general_perplexity": 10.0, "step": 0}
        {"entropy": 1.2, "gold_reward": 0.4, "grad_norm": 0.5, "kl": 0.0, "learning_rate": 1e-05, "loss": 0.1, "reward": 0.5, "rewards/format/mean": 0.5, "step": 1}
        {"entropy": 1.0, "general_perplexity": 12.0, "general_perplexity_before": 10.0, "general_perplexity_change": 2.0, "gold_reward": 0.1, "grad_norm": 0.25, "kl": 0.01, "learning_rate": 1e-05, "loss": "NaN", "reward": 0.9, "rewards/format/mean": 0.9, "step": 2}

        """

    private let summaryCSV = SweepRow.csvHeader + "\n" + """
        "greedy",1,3,0.25,0,0.25,0,0.25,0,0.25,0,4,0,12,4,1.5,0
        "best-of-n:n=4",4,3,0.5,0.1,0.25,0,0.75,0,0.5,0,16,0,40,4,2,0
        "best-of-n:n=4",8,3,0.75,0.1,0.25,0,0.875,0,0.5,0,32,0,80,8,3,0

        """

    func testSupervisedRunDrawsTrainingChartsOnly() throws {
        let dir = try folder("sft", in: try makeTemporaryFolder("report-sft"), files: ["metrics.jsonl": sftMetrics])
        let html = try RunReport.html(folders: [dir])
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 4, "loss, learning rate, gradient norm, throughput")
        for title in ["Loss", "Learning rate", "Gradient norm", "Throughput"] { XCTAssertTrue(html.contains("<title>\(title)</title>"), title) }
        for absent in ["Reinforcement learning", "Reward hacking", "Forgetting", "Inference-time", "Quickstart", "Other logged metrics"] {
            XCTAssertFalse(html.contains(absent), absent)
        }
        // The loss chart holds the training and the eval loss; the summary their last values.
        XCTAssertTrue(html.contains("<title>eval_loss: 2, 2.25</title>"))
        XCTAssertTrue(html.contains("<tr><td>last eval_loss</td><td class=\"num\">2.25</td></tr>"))
        XCTAssertTrue(html.contains("<tr><td>tokens trained</td><td class=\"num\">200</td></tr>"))
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.contains("http://") && !html.contains("http://www.w3.org/2000/svg"))
    }

    func testRLRunDrawsRewardsHackingGapAndForgetting() throws {
        let dir = try folder("grpo", in: try makeTemporaryFolder("report-rl"), files: ["metrics.jsonl": rlMetrics])
        let html = try RunReport.html(folders: [dir])
        for heading in ["Reinforcement learning", "Reward hacking: proxy reward against the gold verifier", "Forgetting: perplexity on held-out general text"] {
            XCTAssertTrue(html.contains("<h2>\(heading)</h2>"), heading)
        }
        // Gap = proxy − gold at each step: 0.5 − 0.4 and 0.9 − 0.1.
        XCTAssertTrue(html.contains("<title>gap (proxy − gold): 1, 0.1</title>"), html)
        XCTAssertTrue(html.contains("<title>gap (proxy − gold): 2, 0.8</title>"))
        XCTAssertTrue(html.contains("<title>rewards/format/mean: 2, 0.9</title>"))
        // Forgetting: 10 before, 12 after, +2 (+20 %).
        XCTAssertTrue(html.contains("<td class=\"num\">10</td><td class=\"num\">12</td><td class=\"num\">2 (+20.0%)</td>"), html)
        // The NaN loss of step 2 is a gap: one point, drawn as a marker, no line.
        XCTAssertTrue(html.contains("<title>loss: 1, 0.1</title>"))
        XCTAssertFalse(html.contains("<title>loss: 2"))
    }

    func testEvalFolderDrawsAccuracyAgainstCompute() throws {
        let dir = try folder("eval", in: try makeTemporaryFolder("report-eval"), files: ["summary.csv": summaryCSV])
        let html = try RunReport.html(folders: [dir])
        XCTAssertTrue(html.contains("<h2>Inference-time trade-off: accuracy against compute</h2>"))
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 1)
        XCTAssertTrue(html.contains("<title>best-of-n:n=4: 32, 75.0%</title>"), html)
        XCTAssertTrue(html.contains("<td>best-of-n:n=4</td><td class=\"num\">8</td><td class=\"num\">75.0 ± 10.0</td>"))
        XCTAssertFalse(html.contains("<h2>Training</h2>"))
    }

    func testQuickstartFolderShowsTheStageTableAndStageCurves() throws {
        let parent = try makeTemporaryFolder("report-quickstart")
        let quickstart = """
            {"task": "multiplication", "seeds": [0, 1], "stages": ["base", "sft", "grpo"], "columns": ["pass@1", "maj@8", "best-of-8", "tokens/answer"],
             "rows": [{"stage": "sft", "values": {"pass@1": {"mean": 0.41, "spread": 0.03, "per_seed": [0.39, 0.43]}}},
                      {"stage": "base", "values": {"pass@1": {"mean": 0.02, "spread": 0.01, "per_seed": [0.01, 0.03]}}}],
             "runs": {"seed-0/sft": "seed-0/sft", "seed-1/sft": "seed-1/sft", "seed-0/eval-sft": "seed-0/eval-sft"},
             "hack": {"proxy": "length:target=<8>", "run": "seed-0/hack"}}
            """
        let dir = try folder("quickstart", in: parent, files: [
            "quickstart.json": quickstart, "seed-0/sft/metrics.jsonl": sftMetrics, "seed-1/sft/metrics.jsonl": sftMetrics,
            "seed-0/eval-sft/summary.csv": summaryCSV, "seed-0/hack/metrics.jsonl": rlMetrics,
        ])
        let html = try RunReport.html(folders: [dir])
        // Stages in quickstart.json's order, mean ± spread, a dash where a column has no value.
        XCTAssertTrue(html.contains("<tr><th>stage</th><th>pass@1</th><th>maj@8</th><th>best-of-8</th><th>tokens/answer</th></tr>\n" +
                                    "<tr><td>base</td><td class=\"num\">0.02 ± 0.01</td><td>–</td><td>–</td><td>–</td></tr>\n" +
                                    "<tr><td>sft</td><td class=\"num\">0.41 ± 0.03</td>"), html)
        XCTAssertTrue(html.contains("trained on the proxy <code>length:target=&lt;8&gt;</code>"))
        XCTAssertTrue(html.contains("<title>gap (proxy − gold): 2, 0.8</title>"))
        XCTAssertTrue(html.contains("<h3>Stage sft</h3>"))
        XCTAssertTrue(html.contains("<h3>Stage eval-sft</h3>"))
        // The sft stage overlays its seeds, one colour each.
        XCTAssertTrue(html.contains("<title>seed-0</title>") && html.contains("<title>seed-1</title>"))
        XCTAssertLessThan(try XCTUnwrap(html.range(of: "Stage sft")).lowerBound, try XCTUnwrap(html.range(of: "Stage eval-sft")).lowerBound)
    }

    // MARK: - Overlays, escaping, errors

    func testOverlayGivesEachRunOneColourAndItsFolderName() throws {
        let parent = try makeTemporaryFolder("report-overlay")
        let lora = try folder("lora", in: parent, files: ["metrics.jsonl": sftMetrics])
        let full = try folder("full <ft>", in: parent, files: ["metrics.jsonl": sftMetrics.replacingOccurrences(of: "\"loss\": 2.0", with: "\"loss\": 1.0")])
        let html = try RunReport.html(folders: [lora, full])
        XCTAssertTrue(html.contains("<title>Temper report: lora vs full &lt;ft&gt;</title>"))
        XCTAssertFalse(html.contains("full <ft>"))
        // The learning-rate chart draws one key: the legend is the folder name, in the run's colour.
        XCTAssertTrue(html.contains("stroke=\"#0072B2\" stroke-width=\"3\"/><text x=\"440.0\" y=\"46.0\" fill=\"#222\" font-size=\"11\">lora<title>lora</title></text>"), html)
        XCTAssertTrue(html.contains("stroke=\"#D55E00\" stroke-width=\"3\"/><text x=\"440.0\" y=\"64.0\" fill=\"#222\" font-size=\"11\">full &lt;ft&gt;<title>full &lt;ft&gt;</title></text>"))
        // The loss chart draws two keys: the run's colour, the key's dash.
        XCTAssertTrue(html.contains("<title>lora · eval_loss</title>"))
        XCTAssertTrue(html.contains("stroke=\"#D55E00\" stroke-width=\"3\" stroke-dasharray=\"6 3\"/>"))
        XCTAssertTrue(html.contains("<title>full &lt;ft&gt; · loss: 2, 1</title>"))
        XCTAssertEqual(RunFolder.labels(for: [URL(fileURLWithPath: "/r/seed-0/sft"), URL(fileURLWithPath: "/r/seed-1/sft")]), ["seed-0/sft", "seed-1/sft"])
    }

    func testFoldersWithoutARunAreClearErrors() throws {
        let parent = try makeTemporaryFolder("report-errors")
        let empty = try folder("empty", in: parent, files: [:])
        XCTAssertThrowsError(try RunReport.write(folder: empty)) {
            XCTAssertEqual("\($0)", "\(empty.path) holds no run: expected metrics.jsonl (temper train), summary.csv (temper eval) or quickstart.json (temper quickstart)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: empty.appendingPathComponent("report.html").path))
        XCTAssertNil(RunReport.writeOrWarn(folder: empty), "the command's own results stand; the failure is a warning line")
        let missing = parent.appendingPathComponent("nowhere")
        XCTAssertThrowsError(try RunReport.html(folders: [missing])) { XCTAssertEqual("\($0)", "\(missing.path) does not exist (expected a run's output folder)") }
        let bad = try folder("bad", in: parent, files: ["metrics.jsonl": "{\"loss\": 1, \"step\": 1}\n{\"loss\": \"abc\", \"step\": 2}\n"])
        XCTAssertThrowsError(try RunReport.html(folders: [bad])) {
            XCTAssertEqual("\($0)", "\(bad.path)/metrics.jsonl line 2: 'loss' is abc, expected a number")
        }
        let csv = try folder("csv", in: parent, files: ["summary.csv": "search,budget\n\"greedy\",1\n"])
        XCTAssertThrowsError(try RunReport.html(folders: [csv])) {
            XCTAssertEqual("\($0)", "\(csv.path)/summary.csv: no column 'accuracy_mean' in the header (expected \(SweepRow.csvHeader))")
        }
        let json = try folder("qs", in: parent, files: ["quickstart.json": "{\"task\": \"t\", \"seeds\": [0], \"stages\": [], \"columns\": [], \"rows\": [{\"stage\": \"a\"}], \"runs\": {}}"])
        XCTAssertThrowsError(try RunReport.html(folders: [json])) {
            XCTAssertEqual("\($0)", "\(json.path)/quickstart.json: no field 'rows[0].values' (expected task, seeds, stages, columns, rows, runs)")
        }
    }

    // MARK: - The commands

    func testTrainWritesItsReportAndReportOverlaysRuns() throws {
        let parent = try makeTemporaryFolder("report-cli")
        let run = parent.appendingPathComponent("tiny-sft")
        let trained = try TestSupport.temper(["train", "examples/recipes/sft-full.yaml", "--output_dir", run.path, "--max_steps", "2",
                                              "--logging_steps", "1", "--save_steps", "2", "--packing", "false",
                                              "--per_device_train_batch_size", "2", "--max_length", "40"])
        XCTAssertEqual(trained.status, 0, trained.err)
        let page = try String(contentsOf: run.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(page.contains("<title>Temper report: tiny-sft</title>"))
        XCTAssertTrue(page.contains("<tr><td>steps</td><td class=\"num\">2</td></tr>"), page)
        XCTAssertTrue(page.contains("<tr><td>learning_rate</td><td class=\"num\">0.001</td></tr>"))
        XCTAssertTrue(page.contains("<title>Loss</title>"))
        let record = try XCTUnwrap(TrainingRunRecord.read(in: run))
        XCTAssertEqual(record.steps, 2)
        XCTAssertEqual(record.settings["per_device_train_batch_size"], "2")

        let other = try folder("other", in: parent, files: ["metrics.jsonl": sftMetrics])
        let output = parent.appendingPathComponent("compare.html")
        let overlaid = try TestSupport.temper(["report", run.path, other.path, "--output", output.path])
        XCTAssertEqual(overlaid.status, 0, overlaid.err)
        XCTAssertEqual(overlaid.out, "wrote \(output.path)\n")
        let compare = try String(contentsOf: output, encoding: .utf8)
        XCTAssertTrue(compare.contains("<title>Temper report: tiny-sft vs other</title>"))
        XCTAssertTrue(compare.contains("<title>tiny-sft · loss</title>") && compare.contains("<title>other · loss</title>"))

        let empty = try folder("empty", in: parent, files: [:])
        let refused = try TestSupport.temper(["report", empty.path])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.err.contains("Error: \(empty.path) holds no run: expected metrics.jsonl (temper train)"), refused.err)
    }
}
