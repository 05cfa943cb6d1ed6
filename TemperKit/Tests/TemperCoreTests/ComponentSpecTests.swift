import TemperCore
import XCTest

/// A component used only to exercise parsing and resolution.
private final class ToyOptimizer: Optimizer {
    static let name = "toy"
    static let summary = "test optimizer"
    static let parameters: [ParameterSpec] = [
        .float("lr", default: 1e-3, range: .greaterThan(0), aliases: ["learning_rate"], doc: "rate"),
        .float("momentum", default: 0, range: .halfOpen(0, 1), doc: "momentum"),
        .int("steps", default: 3, range: .atLeast(1), doc: "steps"),
        .bool("nesterov", default: false, doc: "nesterov"),
        .choice("schedule", ["constant", "linear", "cosine"], default: "constant", doc: "schedule"),
        .list("target_modules", of: .string, default: [.string("q_proj")], doc: "targets"),
    ]
    var learningRate: Float
    let config: ComponentConfig
    init(config: ComponentConfig) throws { self.config = config; learningRate = try config.float("lr") }
    func step(_ groups: [ParameterGroup]) throws {}
    func state() -> OptimizerState { OptimizerState() }
    func load(state: OptimizerState) throws {}
}

private struct ToyReward: RewardFunction {
    static let name = "toy-reward"
    static let summary = "length"
    static let parameters: [ParameterSpec] = [.float("scale", default: 1, doc: "factor")]
    let scale: Float
    init(config: ComponentConfig) throws { scale = try config.float("scale") }
    func score(_ batch: RewardBatch) throws -> [Float?] { batch.completions.map { Float($0.count) * scale } }
}

final class ComponentSpecTests: XCTestCase {
    var registry: ComponentRegistry!

    override func setUpWithError() throws {
        registry = ComponentRegistry()
        try registry.register([ComponentDescriptor(ToyOptimizer.self, library: "libA.so"),
                               ComponentDescriptor(ToyReward.self, library: "libA.so")])
    }

    private func message(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    func testParsesNameOnlyAndSettingsWithLists() throws {
        XCTAssertEqual(try ComponentSpec(parsing: "adamw").name, "adamw")
        let spec = try ComponentSpec(parsing: "lora:r=16, alpha=32,target_modules=[q_proj,v_proj],dropout=0.05")
        XCTAssertEqual(spec.name, "lora")
        XCTAssertEqual(spec.settings.map(\.key), ["r", "alpha", "target_modules", "dropout"])
        XCTAssertEqual(spec.settings[2].value, .list([.text("q_proj"), .text("v_proj")]))
        XCTAssertEqual(spec.description, "lora:r=16,alpha=32,target_modules=[q_proj,v_proj],dropout=0.05")
    }

    func testQuotedValuesKeepCommasAndBrackets() throws {
        let spec = try ComponentSpec(parsing: #"format:pattern="^\d{1,3}(,\d{3})*$",match=full,tags=['a,b',c]"#)
        XCTAssertEqual(spec.settings.map(\.key), ["pattern", "match", "tags"])
        XCTAssertEqual(spec.settings[0].value, .text(#"^\d{1,3}(,\d{3})*$"#))
        XCTAssertEqual(spec.settings[2].value, .list([.text("a,b"), .text("c")]))
        // A quote inside an unquoted value is an ordinary character.
        XCTAssertEqual(try ComponentSpec(parsing: "x:a=it's").settings[0].value, .text("it's"))
        XCTAssertEqual(message { _ = try ComponentSpec(parsing: #"x:a="1,2"#) }, #"unclosed " in 'x:a="1,2'"#)
    }

    func testMalformedSpecsAreErrors() {
        XCTAssertEqual(message { _ = try ComponentSpec(parsing: "sgd:lr") }, "sgd: setting 'lr' in 'sgd:lr' is not key=value")
        XCTAssertEqual(message { _ = try ComponentSpec(parsing: ":lr=1") }, "component spec ':lr=1' has no name (expected name or name:key=value,...)")
        XCTAssertEqual(message { _ = try ComponentSpec(parsing: "x:a=[1,2") }, "unclosed '[' in 'x:a=[1,2'")
        XCTAssertEqual(message { _ = try ComponentSpec(parsing: "x:a=1,,b=2") }, "empty setting in 'x:a=1,,b=2' (stray comma?)")
        XCTAssertEqual(message { _ = try ComponentSpec(parsing: "x:a=") }, "x: a has no value in 'x:a='")
    }

    func testResolvesWithDefaultsAliasesAndTypes() throws {
        let opt = try registry.optimizer("toy:learning_rate=0.5,steps=7,nesterov=true,schedule=cosine,target_modules=[a,b]")
        let toy = try XCTUnwrap(opt as? ToyOptimizer)
        XCTAssertEqual(toy.learningRate, 0.5)
        XCTAssertEqual(try toy.config.int("steps"), 7)
        XCTAssertEqual(try toy.config.bool("nesterov"), true)
        XCTAssertEqual(try toy.config.string("schedule"), "cosine")
        XCTAssertEqual(try toy.config.strings("target_modules"), ["a", "b"])
        XCTAssertEqual(try toy.config.double("momentum"), 0)
        // A single value for a list parameter is a one-element list.
        let single = try XCTUnwrap(try registry.optimizer("toy:target_modules=o_proj") as? ToyOptimizer)
        XCTAssertEqual(try single.config.strings("target_modules"), ["o_proj"])
    }

    func testUnknownComponentListsAndSuggests() {
        XCTAssertEqual(message { _ = try registry.optimizer("tyo") },
                       "unknown optimizer 'tyo'. Did you mean 'toy'? Available optimizers: toy")
        XCTAssertEqual(message { _ = try registry.optimizer("toy-reward") },
                       "'toy-reward' is a reward, not an optimizer. Available optimizers: toy")
        XCTAssertEqual(message { _ = try registry.search("beam") }, "unknown search strategy 'beam'. No search strategies are loaded.")
    }

    func testUnknownKeySuggestsClosestAndListsValid() {
        XCTAssertEqual(message { _ = try registry.optimizer("toy:momentm=0.9") },
                       "toy: unknown parameter 'momentm'. Did you mean 'momentum'? (parameters: lr, momentum, steps, nesterov, schedule, target_modules)")
    }

    func testWrongTypeAndOutOfRangeNameKeyAndRange() {
        XCTAssertEqual(message { _ = try registry.optimizer("toy:lr=fast") }, "toy: lr expects a float in (0, ∞), got 'fast'")
        XCTAssertEqual(message { _ = try registry.optimizer("toy:lr=0") }, "toy: lr=0 is out of range (0, ∞)")
        XCTAssertEqual(message { _ = try registry.optimizer("toy:momentum=1") }, "toy: momentum=1 is out of range [0, 1)")
        XCTAssertEqual(message { _ = try registry.optimizer("toy:steps=2.5") }, "toy: steps expects an int in [1, ∞), got '2.5'")
        XCTAssertEqual(message { _ = try registry.optimizer("toy:nesterov=maybe") }, "toy: nesterov expects a bool (true/false), got 'maybe'")
        XCTAssertEqual(message { _ = try registry.optimizer("toy:schedule=cosin") },
                       "toy: schedule must be one of constant, linear, cosine, got 'cosin'. Did you mean 'cosine'?")
        XCTAssertEqual(message { _ = try registry.optimizer("toy:lr=[1,2]") }, "toy: lr expects a float in (0, ∞), got the list [1,2]")
        XCTAssertEqual(message { _ = try registry.optimizer("toy:lr=1,learning_rate=2") }, "toy: lr is given twice")
    }

    func testRewardWeightIsTakenOffBeforeValidation() throws {
        let w = try registry.reward("toy-reward:weight=0.25,scale=2")
        XCTAssertEqual(w.weight, 0.25)
        XCTAssertEqual(w.name, "toy-reward")
        XCTAssertEqual(try w.reward.score(RewardBatch(prompts: ["p"], completions: ["abc"])), [6])
        XCTAssertEqual(try registry.reward("toy-reward").weight, 1)
        XCTAssertEqual(message { _ = try registry.reward("toy-reward:weight=heavy") }, "toy-reward: weight expects a float, got 'heavy'")
    }

    func testRewardSumSkipsNilAndWeights() throws {
        struct Fixed: RewardScoring {
            let values: [Float?]
            func score(_ batch: RewardBatch) throws -> [Float?] { values }
        }
        let sum = RewardSum([WeightedReward(name: "a", reward: Fixed(values: [1, nil, nil]), weight: 2),
                             WeightedReward(name: "b", reward: Fixed(values: [0.5, 3, nil]), weight: 0.5)])
        let batch = RewardBatch(prompts: ["", "", ""], completions: ["", "", ""])
        XCTAssertEqual(try sum.score(batch), [2.25, 1.5, nil])
        let bad = RewardSum([WeightedReward(name: "short", reward: Fixed(values: [1]))])
        XCTAssertEqual(message { _ = try bad.score(batch) }, "reward short returned 1 scores for 3 completions")
    }

    func testDuplicateNamesNameBothLibraries() {
        XCTAssertEqual(message { try registry.register([ComponentDescriptor(ToyOptimizer.self, library: "libB.so")]) },
                       "duplicate component name 'toy': registered by libA.so and again by libB.so")
    }

    func testBadDeclarationsAreRefused() {
        let badDefault = ComponentDescriptor(name: "bad", kind: .optimizer, summary: "", parameters: [
            .float("lr", default: -1, range: .greaterThan(0), doc: "rate"),
        ], library: "libC.so") { _ in 0 }
        XCTAssertEqual(message { try registry.register([badDefault]) }, "bad: lr=-1.0 is out of range (0, ∞)")
        let dup = ComponentDescriptor(name: "dup", kind: .reward, summary: "", parameters: [
            .float("a", default: 1, doc: ""), .int("b", default: 1, aliases: ["a"], doc: ""),
        ], library: "libC.so") { _ in 0 }
        XCTAssertEqual(message { try registry.register([dup]) }, "dup (libC.so) declares parameter 'a' twice")
        let badName = ComponentDescriptor(name: "Bad Name", kind: .reward, summary: "", parameters: [], library: "libC.so") { _ in 0 }
        XCTAssertEqual(message { try registry.register([badName]) },
                       "component name 'Bad Name' in libC.so must be lower-case letters, digits, '-', '_' or '.'")
        XCTAssertNil(registry.descriptor(named: "bad"))
    }

    func testRequiredParameterMustBeGiven() {
        let params: [ParameterSpec] = [.string("path", default: nil, doc: "model file")]
        XCTAssertEqual(message { _ = try ComponentConfig(component: "rm", parameters: params, raw: []) },
                       "rm: missing required parameter 'path' (a string): model file")
    }

    func testSuggestionDistance() {
        XCTAssertEqual(Suggestions.editDistance("kitten", "sitting"), 3)
        XCTAssertEqual(Suggestions.closest(to: "adamww", in: ["sgd", "adamw", "adam"]), "adamw")
        XCTAssertNil(Suggestions.closest(to: "zzzzzz", in: ["sgd", "adamw"]))
    }
}
