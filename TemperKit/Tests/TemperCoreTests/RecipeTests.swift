import Foundation
import TemperCore
import XCTest

final class RecipeTests: XCTestCase {
    private func message(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    func testParsesFieldsAndComponents() throws {
        let recipe = try RecipeLoader.parse("""
            model: models/tiny.gguf
            data: data/train.jsonl
            learning_rate: 2.0e-4
            per_device_train_batch_size: 4
            max_steps: 100
            lr_scheduler_type: cosine
            warmup_ratio: 0.1
            peft: lora:r=16,alpha=32,target_modules=[q_proj,v_proj]
            optimizer:
              name: adamw
              weight_decay: 0.0
              betas: [0.9, 0.95]
            rewards:
              - exact-match
              - name: format
                weight: 0.2
            """, source: "recipe.yaml")
        XCTAssertEqual(recipe.string("model"), "models/tiny.gguf")
        XCTAssertEqual(recipe.string("train_file"), "data/train.jsonl")
        XCTAssertEqual(try recipe.double("learning_rate"), 2e-4)
        XCTAssertEqual(try recipe.int("per_device_train_batch_size"), 4)
        XCTAssertEqual(try recipe.int("gradient_accumulation_steps"), 1)
        XCTAssertEqual(recipe.string("lr_scheduler_type"), "cosine")
        XCTAssertEqual(try recipe.double("warmup_ratio"), 0.1)
        XCTAssertEqual(recipe.peft?.description, "lora:r=16,alpha=32,target_modules=[q_proj,v_proj]")
        XCTAssertEqual(recipe.optimizer.description, "adamw:weight_decay=0.0,betas=[0.9,0.95]")
        XCTAssertEqual(recipe.rewards.map(\.description), ["exact-match", "format:weight=0.2"])
        XCTAssertEqual(recipe.objective.name, "sft")
        XCTAssertFalse(recipe.isSet("eval_steps"))
        XCTAssertNoThrow(try recipe.validate())
    }

    func testFlagsOverrideTheRecipe() throws {
        var recipe = try RecipeLoader.parse("learning_rate: 1e-4\noptimizer: sgd\n", source: "r.yaml")
        try recipe.set("learning_rate", .text("3e-4"))
        try recipe.set("optimizer", .text("adamw:eps=1e-6"))
        try recipe.set("reward", .text("exact-match:weight=2"))
        XCTAssertEqual(try recipe.double("learning_rate"), 3e-4)
        XCTAssertEqual(recipe.optimizer.description, "adamw:eps=1e-6")
        XCTAssertEqual(recipe.rewards.map(\.description), ["exact-match:weight=2"])
    }

    func testUnknownFieldsAreErrorsWithLineAndSuggestion() {
        let m = message { _ = try RecipeLoader.parse("max_steps: 10\nlearning_rat: 1e-4\n", source: "r.yaml") }
        XCTAssertTrue(m.hasPrefix("r.yaml:2: unknown field 'learning_rat'. Did you mean 'learning_rate'? Fields: model, "), m)
    }

    func testWrongTypesAndRangesNameTheFieldAndLine() {
        XCTAssertEqual(message { _ = try RecipeLoader.parse("\nper_device_train_batch_size: 0\n", source: "r.yaml") },
                       "r.yaml:2: recipe: per_device_train_batch_size=0 is out of range [1, ∞)")
        XCTAssertEqual(message { _ = try RecipeLoader.parse("learning_rate: fast\n", source: "r.yaml") },
                       "r.yaml:1: recipe: learning_rate expects a float in (0, ∞), got 'fast'")
        XCTAssertEqual(message { _ = try RecipeLoader.parse("lr_scheduler_type: cosin\n", source: "r.yaml") },
                       "r.yaml:1: recipe: lr_scheduler_type must be one of constant, constant_with_warmup, linear, cosine, cosine_with_min_lr, got 'cosin'. Did you mean 'cosine'?")
        XCTAssertEqual(message { _ = try RecipeLoader.parse("optimizer: [sgd, adamw]\n", source: "r.yaml") },
                       "r.yaml:1: optimizer takes one component, not a list")
        XCTAssertEqual(message { _ = try RecipeLoader.parse("optimizer: {lr: 1}\n", source: "r.yaml") },
                       "r.yaml:1: optimizer mapping needs a 'name' field")
        let duplicate = message { _ = try RecipeLoader.parse("seed: 1\nseed: 2\n", source: "r.yaml") }
        XCTAssertTrue(duplicate.hasPrefix("r.yaml: not valid YAML") && duplicate.contains("'seed'"), duplicate)
        XCTAssertTrue(message { _ = try RecipeLoader.parse("a: [1\n", source: "r.yaml") }.hasPrefix("r.yaml: not valid YAML"))
        XCTAssertEqual(message { _ = try RecipeLoader.parse("- a\n- b\n", source: "r.yaml") }, "r.yaml: a recipe is a mapping of field: value")
    }

    func testCrossFieldValidation() throws {
        XCTAssertEqual(message { try RecipeLoader.parse("num_train_epochs: 0\n", source: "r").validate() },
                       "recipe: set max_steps > 0 or num_train_epochs > 0, or there is nothing to train")
        XCTAssertEqual(message { try RecipeLoader.parse("rewards: [a, b]\nreward_weights: [1.0]\n", source: "r").validate() },
                       "recipe: reward_weights has 1 values for 2 rewards")
        XCTAssertEqual(message { try RecipeLoader.parse("eval_steps: 5\n", source: "r").validate() }, "recipe: eval_steps needs an eval_file")
    }

    func testLoadsFromFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("recipe-\(UUID().uuidString).yaml")
        try "output_dir: runs/x\nseed: 7\n".write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        let recipe = try RecipeLoader.load(path: url.path)
        XCTAssertEqual(recipe.string("output_dir"), "runs/x")
        XCTAssertEqual(try recipe.int("seed"), 7)
        XCTAssertEqual(message { _ = try RecipeLoader.load(path: "/nonexistent.yaml") }, "recipe /nonexistent.yaml: cannot be read")
    }
}
