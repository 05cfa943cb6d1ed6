import Foundation

/// `run.json` in a training output folder: what the metrics cannot say — the objective, the
/// trainer's settings and the wall-clock time — written by the trainer when it finishes, read by
/// the report's run summary.
public struct TrainingRunRecord: Codable, Equatable {
    /// The file name in the output folder.
    public static let fileName = "run.json"

    /// The objective's type (e.g. `GRPOObjective`).
    public var objective: String
    /// Optimizer steps taken.
    public var steps: Int
    /// Seconds the training loop ran, this session.
    public var seconds: Double
    /// Trainable parameter elements.
    public var trainableParameters: Int
    /// The trainer's settings by their recipe names, as text.
    public var settings: [String: String]

    enum CodingKeys: String, CodingKey {
        case objective, steps, seconds, settings
        case trainableParameters = "trainable_parameters"
    }

    /// A record from its parts.
    public init(objective: String, steps: Int, seconds: Double, trainableParameters: Int, settings: [String: String]) {
        self.objective = objective
        self.steps = steps
        self.seconds = seconds
        self.trainableParameters = trainableParameters
        self.settings = settings
    }

    /// Writes the record into `folder` (atomically).
    public func write(to folder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFileWriter.write(try encoder.encode(self), to: folder.appendingPathComponent(Self.fileName))
    }

    /// The record in `folder`, nil when there is none; a malformed one is an error naming it.
    public static func read(in folder: URL) throws -> TrainingRunRecord? {
        let url = folder.appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        do { return try JSONDecoder().decode(TrainingRunRecord.self, from: data) } catch {
            throw ReportError("\(url.path): not a training run record (expected objective, steps, seconds, trainable_parameters, settings)")
        }
    }
}

extension Trainer {
    /// The settings a report shows, by their recipe names.
    var reportSettings: [String: String] {
        var s: [String: String] = [
            "learning_rate": String(format: "%g", schedule.peak), "lr_scheduler_type": config.lrSchedulerType.rawValue,
            "per_device_train_batch_size": String(config.perDeviceTrainBatchSize),
            "gradient_accumulation_steps": String(config.gradientAccumulationSteps),
            "max_steps": String(state.maxSteps), "max_grad_norm": String(format: "%g", config.maxGradNorm), "seed": String(config.seed),
            "logging_steps": String(config.loggingSteps), "optimizer": String(describing: type(of: optimizer)),
        ]
        if communicator.worldSize > 1 {
            // gradient_accumulation_steps is per rank: the run's batch is that × ranks × rows.
            s["world_size"] = String(communicator.worldSize)
            s["global_batch_size"] = String(config.perDeviceTrainBatchSize * microBatchesPerStep)
        }
        if config.warmupSteps > 0 { s["warmup_steps"] = String(config.warmupSteps) }
        if config.warmupRatio > 0 { s["warmup_ratio"] = String(config.warmupRatio) }
        return s
    }

    /// Writes `run.json` and `report.html` into the output folder when training ends; a failure is
    /// a warning (the trained weights matter more than their report).
    func writeRunReport(seconds: Double) {
        // Rank 0 alone writes a data-parallel run's outputs; the others hold the same state.
        guard communicator.isRoot else { return }
        let folder = config.outputDir
        do {
            try TrainingRunRecord(objective: String(describing: type(of: objective)), steps: state.globalStep, seconds: seconds,
                                  trainableParameters: trainableParameterCount, settings: reportSettings).write(to: folder)
        } catch {
            FileHandle.standardError.write(Data("warning: no \(TrainingRunRecord.fileName) written in \(folder.path): \(error)\n".utf8))
        }
        RunReport.writeOrWarn(folder: folder)
    }
}
