import ArgumentParser

/// `temper-bench`: the runtime's benchmarks, one subcommand each. They print figures for the
/// README's performance section; they are not tests and assert nothing.
struct TemperBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "temper-bench",
        abstract: "Benchmarks of Temper's tensor runtime.",
        subcommands: [GEMMBenchmark.self, BlockBenchmark.self, GenerationBenchmark.self, SearchBenchmark.self, CodeExecBenchmark.self, MathEquivBenchmark.self,
                      SFTBenchmark.self, PrefixSharingBenchmark.self, GRPOBenchmark.self, GRPOLearningBenchmark.self, DPOBenchmark.self,
                      DataParallelBenchmark.self]
    )
}

TemperBench.main()
