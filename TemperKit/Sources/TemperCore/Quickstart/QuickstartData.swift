import Foundation

/// The quickstart's problems and the files every stage reads, drawn once and shared by all seeds
/// (so the spread over seeds is that of training and sampling, not of the questions):
///
/// - `data/sft.jsonl`: training problems as chats, the task's worked solution as the assistant turn
///   — with the task's typical slip (`FlawedDemonstrations`) in a share of those that can have it,
///   chosen by a fixed stream of its own so the problems are the same at every share;
/// - `data/prompts.jsonl`: the same problems prompt-only with their `answer` (and the task's other
///   columns), what GRPO samples from and grades;
/// - `data/heldout.jsonl`: held-out problems (the task's test split: no prompt is in both) as chats
///   whose trailing assistant turn is the worked solution, with their `answer` column, so `temper
///   eval --data` reads them with either `math-equiv` (the answer) or `answer_column=completion`;
/// - `data/general-text.txt` for the built-in model: the forgetting probe's text, lower-cased
///   because the character tokenizer has no capitals.
struct QuickstartData {
    /// The task and the spec it was made from.
    let task: any VerifiableTask, taskSpec: String
    /// Training and held-out problems.
    let train: [TaskExample], heldOut: [TaskExample]
    /// SFT's demonstrations: `train`, `flawedCount` of them (of `flawable` that could be) with the task's slip.
    let demonstrations: [TaskExample], flawedCount: Int, flawable: Int
    /// The files.
    let sftFile: URL, promptFile: URL, heldOutFile: URL
    /// The general text for the built-in model's character tokenizer; nil: the built-in set as it is.
    let generalTextFile: URL?

    /// Draws the problems of `taskSpec` (training from seed 1, held out from seed 2, as the README's
    /// `temper data make` commands do), flaws the share `flawedShare` of the demonstrations that can
    /// have the task's slip, and writes the files into `folder`.
    init(taskSpec: String, trainCount: Int, heldOutCount: Int, flawedShare: Double, folder: URL, lowerCaseGeneralText: Bool) throws {
        let spec = try ComponentSpec(parsing: taskSpec)
        task = try TaskCatalog.make(spec.name, options: spec.settings)
        self.taskSpec = taskSpec
        train = try TaskDataset.generate(task, count: trainCount, seed: 1, split: .train)
        heldOut = try TaskDataset.generate(task, count: heldOutCount, seed: 2, split: .test)
        (demonstrations, flawedCount, flawable) = Self.flaw(train, share: flawedShare, task: task)
        sftFile = folder.appendingPathComponent("sft.jsonl")
        promptFile = folder.appendingPathComponent("prompts.jsonl")
        heldOutFile = folder.appendingPathComponent("heldout.jsonl")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try AtomicFileWriter.write(Data(demonstrations.map { Self.chat($0, columns: false) + "\n" }.joined().utf8), to: sftFile)
        try AtomicFileWriter.write(Data(TaskDataset.jsonl(train).utf8), to: promptFile)
        try AtomicFileWriter.write(Data(heldOut.map { Self.chat($0, columns: true) + "\n" }.joined().utf8), to: heldOutFile)
        if lowerCaseGeneralText {
            let url = folder.appendingPathComponent("general-text.txt")
            try AtomicFileWriter.write(Data(GeneralText.text.lowercased().utf8), to: url)
            generalTextFile = url
        } else {
            generalTextFile = nil
        }
    }

    /// `examples` with the task's slip in round(share × n) of the n that can have it, chosen by
    /// `TaskRandom(seed: 3)` (the problems' own streams are seeds 1 and 2); unchanged when the
    /// task has no slip (`Quickstart` says so).
    static func flaw(_ examples: [TaskExample], share: Double, task: any VerifiableTask)
        -> (demonstrations: [TaskExample], flawed: Int, flawable: Int) {
        guard share > 0, let task = task as? any FlawedDemonstrations else { return (examples, 0, 0) }
        let flawed = examples.map { task.flawed($0) }
        let candidates = flawed.indices.filter { flawed[$0] != nil }
        var random = TaskRandom(seed: 3)
        let chosen = random.shuffled(candidates).prefix(Int((share * Double(candidates.count)).rounded()))
        var out = examples
        for i in chosen { out[i] = flawed[i] ?? out[i] }
        return (out, chosen.count, candidates.count)
    }

    /// A problem as a TRL conversational row (user prompt, assistant worked solution), with the
    /// task's columns when `columns`.
    static func chat(_ e: TaskExample, columns: Bool) -> String {
        let messages = #"[{"role":"user","content":\#(ColumnValue.string(e.prompt).json)},"# +
            #"{"role":"assistant","content":\#(ColumnValue.string(e.solution).json)}]"#
        var fields = [(#""messages""#, messages)]
        if columns {
            fields.append((#""answer""#, e.answer.json))
            fields += e.columns.map { (ColumnValue.string($0.name).json, $0.value.json) }
        }
        return "{" + fields.map { $0.0 + ":" + $0.1 }.joined(separator: ",") + "}"
    }

    /// The held-out problems' reward columns, one value per problem (`answer` and the task's own).
    var heldOutColumns: [String: [ColumnValue]] {
        var columns: [String: [ColumnValue]] = ["answer": heldOut.map(\.answer)]
        for name in heldOut.first?.columns.map(\.name) ?? [] { columns[name] = heldOut.map { $0.column(name) ?? .null } }
        return columns
    }
}
