import Foundation

/// Everything a checkpoint holds, read or written in one piece.
public struct CheckpointContents {
    /// Trainable tensors by parameter name.
    public var weights: [String: Tensor]
    /// The optimizer's state.
    public var optimizerState: OptimizerState
    /// The learning-rate schedule and the step it has reached.
    public var schedule: LearningRateSchedule
    /// The trainer's random generator.
    public var rng: PhiloxRNG.State
    /// Progress.
    public var state: TrainerState
    /// Further files by name (the on-policy loop's `rollout_state.json`), written before
    /// `trainer_state.json`; `load` leaves them for their owner to read from the folder.
    public var extraFiles: [String: Data] = [:]
}

/// Writes and reads `output_dir/checkpoint-N/` folders.
///
/// A checkpoint is built in a hidden temporary folder beside its final place and renamed into
/// place only when every file is complete, so a process killed mid-save leaves the previous
/// checkpoints as they were and no half-written `checkpoint-N`. `trainer_state.json` is written
/// last; a folder without it is never taken for a checkpoint.
public struct CheckpointStore {
    /// The run's output folder.
    public let outputDir: URL
    /// Keep at most this many checkpoints (oldest deleted first); nil keeps all.
    public var totalLimit: Int?
    /// Called after each file is written (file name), before the folder is renamed into place.
    /// Tests throw from it to simulate a crash mid-save.
    var afterEachFile: ((String) throws -> Void)?

    /// File names inside a checkpoint.
    public enum FileName {
        public static let weights = "model.safetensors"
        public static let optimizerTensors = "optimizer.safetensors"
        public static let optimizerScalars = "optimizer.json"
        public static let scheduler = "scheduler.json"
        public static let rng = "rng_state.json"
        public static let trainerState = "trainer_state.json"
    }

    /// A store for `outputDir`.
    public init(outputDir: URL, totalLimit: Int? = nil) {
        self.outputDir = outputDir
        self.totalLimit = totalLimit
    }

    /// The folder of step `step`'s checkpoint.
    public func folder(step: Int) -> URL { outputDir.appendingPathComponent("checkpoint-\(step)") }

    /// Writes the checkpoint of `contents.state.globalStep`, replacing one of the same step, then
    /// prunes to `totalLimit`. Returns its folder.
    @discardableResult
    public func save(_ contents: CheckpointContents) throws -> URL {
        let fm = FileManager.default
        try fm.createDirectory(at: outputDir, withIntermediateDirectories: true)
        removeStaleTemporaries()
        let step = contents.state.globalStep
        let final = folder(step: step)
        let tmp = outputDir.appendingPathComponent(".checkpoint-\(step).tmp-\(getpid())")
        try? fm.removeItem(at: tmp)
        try fm.createDirectory(at: tmp, withIntermediateDirectories: false)
        do {
            try SafetensorsWriter.write(contents.weights, to: tmp.appendingPathComponent(FileName.weights), metadata: ["format": "pt"])
            try afterEachFile?(FileName.weights)
            try SafetensorsWriter.write(contents.optimizerState.tensors, to: tmp.appendingPathComponent(FileName.optimizerTensors), metadata: [:])
            try afterEachFile?(FileName.optimizerTensors)
            try writeJSON(contents.optimizerState.scalars, tmp.appendingPathComponent(FileName.optimizerScalars))
            try afterEachFile?(FileName.optimizerScalars)
            try writeJSON(contents.schedule, tmp.appendingPathComponent(FileName.scheduler))
            try afterEachFile?(FileName.scheduler)
            try writeJSON(contents.rng, tmp.appendingPathComponent(FileName.rng))
            try afterEachFile?(FileName.rng)
            for (name, data) in contents.extraFiles.sorted(by: { $0.key < $1.key }) {
                try AtomicFileWriter.write(data, to: tmp.appendingPathComponent(name))
                try afterEachFile?(name)
            }
            try writeJSON(contents.state, tmp.appendingPathComponent(FileName.trainerState))
            try afterEachFile?(FileName.trainerState)
            try Self.install(tmp, at: final)
        } catch {
            try? fm.removeItem(at: tmp)
            throw error
        }
        try prune()
        return final
    }

    /// Renames the finished folder `tmp` into place at `final`; an existing folder there (a
    /// checkpoint of the same step, a saved model) is moved aside first and removed only after the
    /// new one is in place, so a crash at any moment leaves one whole folder.
    static func install(_ tmp: URL, at final: URL) throws {
        let fm = FileManager.default
        var aside: URL? = nil
        if fm.fileExists(atPath: final.path) {
            let old = final.deletingLastPathComponent().appendingPathComponent(".\(final.lastPathComponent).old-\(getpid())")
            try? fm.removeItem(at: old)
            guard rename(final.path, old.path) == 0 else { throw renameError(final, old) }
            aside = old
        }
        guard rename(tmp.path, final.path) == 0 else {
            if let aside { _ = rename(aside.path, final.path) }
            throw renameError(tmp, final)
        }
        if let aside { try? fm.removeItem(at: aside) }
    }

    private static func renameError(_ from: URL, _ to: URL) -> TrainingError {
        TrainingError("cannot rename \(from.path) to \(to.path): \(String(cString: strerror(errno)))")
    }

    /// Hidden folders left by a save that was killed.
    private func removeStaleTemporaries() {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: outputDir.path)) ?? []
        where name.hasPrefix(".checkpoint-") && (name.contains(".tmp-") || name.contains(".old-")) {
            try? fm.removeItem(at: outputDir.appendingPathComponent(name))
        }
    }

    /// Completed checkpoints, oldest first, as (step, folder).
    public func checkpoints() -> [(step: Int, folder: URL)] {
        let fm = FileManager.default
        let names = (try? fm.contentsOfDirectory(atPath: outputDir.path)) ?? []
        return names.compactMap { name -> (Int, URL)? in
            guard name.hasPrefix("checkpoint-"), let step = Int(name.dropFirst("checkpoint-".count)) else { return nil }
            let url = outputDir.appendingPathComponent(name)
            guard fm.fileExists(atPath: url.appendingPathComponent(FileName.trainerState).path) else { return nil }
            return (step, url)
        }.sorted { $0.0 < $1.0 }
    }

    /// The newest completed checkpoint, if any.
    public func latest() -> URL? { checkpoints().last?.folder }

    /// Deletes the oldest checkpoints beyond `totalLimit`.
    public func prune() throws {
        guard let limit = totalLimit else { return }
        let all = checkpoints()
        for (_, url) in all.dropLast(limit) { try FileManager.default.removeItem(at: url) }
    }

    /// Reads a checkpoint folder; errors name the folder and file.
    public static func load(from folder: URL) throws -> CheckpointContents {
        let fm = FileManager.default
        func path(_ name: String) -> URL { folder.appendingPathComponent(name) }
        guard fm.fileExists(atPath: path(FileName.trainerState).path) else {
            throw TrainingError("\(folder.path) is not a complete checkpoint: it has no \(FileName.trainerState)")
        }
        func tensors(_ name: String) throws -> [String: Tensor] {
            let file = try SafetensorsFile(contentsOf: path(name))
            var out: [String: Tensor] = [:]
            // `tensor(named:)` converts to float32; copy so the result does not depend on the mapping.
            for n in file.tensorNames { out[n] = try file.tensor(named: n).copy() }
            return out
        }
        return CheckpointContents(
            weights: try tensors(FileName.weights),
            optimizerState: OptimizerState(tensors: try tensors(FileName.optimizerTensors),
                                           scalars: try readJSON([String: Double].self, path(FileName.optimizerScalars))),
            schedule: try readJSON(LearningRateSchedule.self, path(FileName.scheduler)),
            rng: try readJSON(PhiloxRNG.State.self, path(FileName.rng)),
            state: try readJSON(TrainerState.self, path(FileName.trainerState)))
    }

    private func writeJSON<T: Encodable>(_ value: T, _ url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFileWriter.write(try encoder.encode(value), to: url)
    }

    private static func readJSON<T: Decodable>(_ type: T.Type, _ url: URL) throws -> T {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw TrainingError("\(url.path): cannot be read") }
        do { return try JSONDecoder().decode(T.self, from: data) } catch {
            throw TrainingError("\(url.path): not a valid \(url.lastPathComponent) (\(error))")
        }
    }
}
