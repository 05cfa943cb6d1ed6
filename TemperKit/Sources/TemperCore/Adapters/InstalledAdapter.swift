import Foundation
import TemperModels

/// A saved PEFT adapter made ready for inference on a model (`temper generate/chat --adapter`,
/// `temper merge`): loaded through `PEFTAdapterLoader`, then folded into the weights when the method
/// allows it (LoRA, DoRA, IA3: the same arithmetic as `temper merge`, and no adapter cost per token).
/// Prompt and prefix tuning are inputs rather than weights, so they stay installed and the model
/// adds their virtual tokens itself.
public struct InstalledAdapter: Sendable, CustomStringConvertible {
    /// The Temper PEFT method the adapter's `peft_type` selected (`lora`, `dora`, `ia3`, ...).
    public var method: String
    /// The adapter folder.
    public var directory: URL
    /// Linear layers whose adapters were folded into the weights.
    public var mergedLayers: Int
    /// Linear layers that carry the adapter unmerged (a method that cannot merge), applied per token.
    public var unmergedLayers: Int
    /// Positions the adapter puts before every input (prompt or prefix tuning), 0 for the others.
    public var virtualTokens: Int

    /// One line for a summary: `lora adapter runs/x (merged into 210 layers)`.
    public var description: String {
        let how = mergedLayers > 0 ? "merged into \(mergedLayers) layers"
            : unmergedLayers > 0 ? "unmerged on \(unmergedLayers) layers" : "\(virtualTokens) virtual tokens"
        return "\(method) adapter \(directory.path) (\(how))"
    }

    /// Loads the adapter in `directory` onto `model` and merges it where the method can (a method
    /// whose merge throws stays installed, unmerged); `requireMerge` makes a method that cannot merge
    /// an error (a merged model folder could not carry it). The PEFT plugin must be loaded into
    /// `registry`. Errors name the adapter folder.
    public static func install(from directory: URL, into model: LlamaModel, requireMerge: Bool = false,
                               registry: ComponentRegistry = .shared) throws -> InstalledAdapter {
        let method: any PEFTMethod
        do { method = try PEFTAdapterLoader.load(from: directory, into: model, registry: registry) } catch {
            // The loader names the file for missing files and unknown types, the method only the
            // tensor key when shapes do not fit the base.
            let message = "\(error)"
            throw message.contains(directory.path) ? error : SpecError("\(directory.path): \(message)")
        }
        let adapted = model.linearLayers.filter { $0.adapter != nil }.count
        var merged = 0
        if adapted > 0 || requireMerge {
            do {
                try method.merge(into: model)
                merged = adapted
            } catch where requireMerge {
                throw SpecError("\(directory.path): \(error)")
            } catch {
                merged = 0
            }
        }
        return InstalledAdapter(method: type(of: method).name, directory: directory, mergedLayers: merged,
                                unmergedLayers: adapted - merged, virtualTokens: model.prefixLength)
    }
}
