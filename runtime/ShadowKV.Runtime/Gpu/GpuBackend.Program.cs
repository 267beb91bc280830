using System.Globalization;
using ShadowKV.Compiler.Plans;
using ShadowKV.Runtime.Cuda;
using ShadowKV.Runtime.Engine.Execution;

namespace ShadowKV.Runtime.Gpu;

// One phase at one token count T, prepared for replay: every step's pointers, launch configuration and argument
// list (per layer), GEMM descriptors chosen, metadata destinations resolved.
public sealed partial class GpuBackend
{
    private static readonly string[] MetadataInputs = ["tokens", "positions", "token_seq", "last_row", "context_len", "prompt_len"];

    private StepProgram BuildProgram(PhaseKind kind, int t)
    {
        PhasePlan phase = phases[kind];
        PlanSymbols symbols = Symbols.ForStep(t);
        var program = new StepProgram(phase, t);
        foreach (string name in MetadataInputs)
        {
            if (phase.Buffers.Any(b => b.Name == name))
            {
                program.Metadata[name] = Resolve(phase, symbols, name, layer: 0);
            }
        }

        if (phase.Buffers.Any(b => b.Name == "inv_freq"))
        {
            program.InverseFrequencies = Resolve(phase, symbols, "inv_freq", layer: 0);
        }

        int layers = checked((int)Symbols["L"]);
        List<PlanStep> prologue = [.. phase.Steps.Where(s => s.Scope == StepScope.Prologue)];
        List<PlanStep> layerSteps = [.. phase.Steps.Where(s => s.Scope == StepScope.Layer)];
        List<PlanStep> epilogue = [.. phase.Steps.Where(s => s.Scope == StepScope.Epilogue)];
        foreach (PlanStep step in prologue)
        {
            program.Steps.Add(Prepare(program, phase, symbols, step, layer: 0));
        }

        for (int layer = 0; layer < layers; layer++)
        {
            foreach (PlanStep step in layerSteps)
            {
                program.Steps.Add(Prepare(program, phase, symbols, step, layer));
            }
        }

        foreach (PlanStep step in epilogue)
        {
            program.Steps.Add(Prepare(program, phase, symbols, step, layer: 0));
        }

        PlanStep last = phase.Steps[^1];
        program.Logits = Resolve(phase, symbols, last.Outputs[0], layer: 0);
        // Prefill gathers each slot's last row before the LM head (logits row = slot); decode's logits rows are the
        // step's token rows, mapped to slots through last_row.
        program.LogitsPerSlot = epilogue.Any(s => s.Op == OpContracts.GatherRows);
        return program;
    }

    private PreparedStep Prepare(StepProgram program, PhasePlan phase, PlanSymbols symbols, PlanStep step, int layer)
    {
        CudaStream stream = streams.TryGetValue(step.Stream, out CudaStream? named)
            ? named
            : throw new InvalidOperationException($"Step {step.Node} ({step.Op}) of {phase.Name} runs on stream '{step.Stream}', which the phase does not declare.");
        CudaEvent[] waits = [.. step.WaitEvents.Select(e => events.TryGetValue(e, out CudaEvent? ev) ? ev
            : throw new InvalidOperationException($"Step {step.Node} of {phase.Name} waits for event '{e}', which no step records."))];
        CudaEvent? record = step.RecordEvent is null ? null : events[step.RecordEvent];
        Action work = step.Kind switch
        {
            StepKind.Kernel => PrepareKernel(program, phase, symbols, step, layer, stream),
            StepKind.Gemm => PrepareGemm(phase, symbols, step, layer, stream),
            StepKind.Solver => PrepareSolver(phase, symbols, step, layer, stream),
            _ => throw new NotSupportedException($"Step kind {step.Kind}."),
        };
        return new PreparedStep(ProfileLabel(step), stream, waits, work, record);
    }

    // What a decode profile sums a step under: the kernel, or the GEMM by its weight (q/k/v, o, gate/up, down, lm_head).
    private static string ProfileLabel(PlanStep step) => step.Kind switch
    {
        StepKind.Gemm when step.Gemm is { } gemm => "gemm " + gemm.B,
        StepKind.Kernel when step.Launch is { } launch => launch.Kernel,
        _ => step.Op,
    };

    private Action PrepareKernel(StepProgram program, PhasePlan phase, PlanSymbols symbols, PlanStep step, int layer, CudaStream stream)
    {
        KernelLaunch launch = step.Launch ?? throw new InvalidOperationException($"Kernel step {step.Node} of {phase.Name} has no launch.");
        OpContract contract = Contract(step);
        CudaKernel kernel = modules[phase.Kind].GetKernel(KernelInstantiations.NameExpression(launch, symbols));
        var args = new KernelArgs();
        program.Arguments.Add(args);
        foreach (string binding in launch.Arguments)
        {
            int colon = binding.IndexOf(':');
            string kind = colon < 0 ? binding : binding[..colon];
            string value = colon < 0 ? "" : binding[(colon + 1)..];
            switch (kind)
            {
                case "in":
                    args.Add(Resolve(phase, symbols, RoleBuffer(step, contract, value, input: true), layer));
                    break;
                case "out":
                    args.Add(Resolve(phase, symbols, RoleBuffer(step, contract, value, input: false), layer));
                    break;
                case "scratch":
                    args.Add(Resolve(phase, symbols, "scratch." + value, layer));
                    break;
                case "sym":
                    args.Add(checked((int)symbols.Evaluate(value)));
                    break;
                case "attr":
                    args.Add(Attribute(step, value));
                    break;
                default:
                    throw new InvalidOperationException($"Launch of {launch.Kernel} in {phase.Name} binds '{binding}', which the runtime does not know.");
            }
        }

        var config = new LaunchConfig(
            new Dim3(Dim(symbols, launch.Grid[0]), Dim(symbols, launch.Grid[1]), Dim(symbols, launch.Grid[2])),
            new Dim3((uint)launch.Block[0], (uint)launch.Block[1], (uint)launch.Block[2]),
            checked((int)symbols.Evaluate(launch.SharedBytes)));
        return () => launcher.Launch(kernel, config, stream, args);
    }

    private Action PrepareGemm(PhasePlan phase, PlanSymbols symbols, PlanStep step, int layer, CudaStream stream)
    {
        GemmDescriptor g = step.Gemm ?? throw new InvalidOperationException($"GEMM step {step.Node} of {phase.Name} has no descriptor.");
        int m = checked((int)symbols.Evaluate(g.M)), n = checked((int)symbols.Evaluate(g.N)), k = checked((int)symbols.Evaluate(g.K));
        BufferSpec aSpec = Spec(phase, g.A), cSpec = Spec(phase, g.C);
        if (aSpec.Type != DataType.BF16)
        {
            throw new NotSupportedException($"GEMM {step.Node} of {phase.Name}: A = {g.A} is {aSpec.Type}; cuBLASLt here takes bf16 activations.");
        }

        GemmOutputType output = cSpec.Type switch
        {
            DataType.F32 => GemmOutputType.Float32,
            DataType.BF16 => GemmOutputType.BFloat16,
            _ => throw new NotSupportedException($"GEMM {step.Node} of {phase.Name}: output {g.C} is {cSpec.Type}."),
        };
        GemmEpilogue epilogue = g.Bias is null ? GemmEpilogue.None : GemmEpilogue.Bias;
        if (!gemms.TryGetValue((m, n, k, epilogue, output), out CublasLtGemm? gemm))
        {
            gemm = new CublasLtGemm(cublas!, m, n, k, epilogue, name: $"{phase.Name}/{step.Node}", output: output);
            gemms[(m, n, k, epilogue, output)] = gemm;
        }

        DeviceBuffer a = Resolve(phase, symbols, g.A, layer), b = Resolve(phase, symbols, g.B, layer), d = Resolve(phase, symbols, g.C, layer);
        DeviceBuffer bias = g.Bias is null ? default
            : output == GemmOutputType.Float32 ? memory.F32Biases[(g.Bias, WeightLayer(g.Bias, layer))]
            : Resolve(phase, symbols, g.Bias, layer);
        DeviceBuffer residual = g.Residual is null ? default : Resolve(phase, symbols, g.Residual, layer);
        float beta = g.Residual is null ? 0f : 1f;
        DeviceBuffer workspace = memory.GemmWorkspaces[stream.Name];
        CublasLtGemm chosen = gemm;
        return () => chosen.Run(stream, a, b, d, workspace, bias, residual, 1f, beta);
    }

    // key_eigenbasis: cuSOLVER syevd on each present sequence's Gram matrix, in place (take_top_eigenvectors follows).
    private Action PrepareSolver(PhasePlan phase, PlanSymbols symbols, PlanStep step, int layer, CudaStream stream)
    {
        if (step.Op != OpContracts.KeyEigenbasis || eigensolver is null)
        {
            throw new NotSupportedException($"Solver step {step.Node} ({step.Op}) of {phase.Name}.");
        }

        DeviceBuffer gram = Resolve(phase, symbols, step.Inputs[0], layer);
        long d = Symbols["D"];
        SymmetricEigensolver solver = eigensolver;
        return () =>
        {
            int[] lastRow = currentBatch!.LastRow;
            for (int s = 0; s < lastRow.Length; s++)
            {
                if (lastRow[s] >= 0)
                {
                    solver.Solve(stream, gram.Slice(s * d * d * 4, d * d * 4), memory.Eigenvalues, memory.SolverWorkspace);
                }
            }
        };
    }

    private void UploadMetadata(StepProgram program, StepBatch batch)
    {
        foreach ((string name, DeviceBuffer buffer) in program.Metadata)
        {
            int[] values = name switch
            {
                "tokens" => batch.Tokens,
                "positions" => batch.Positions,
                "token_seq" => batch.TokenSeq,
                "last_row" => batch.LastRow,
                "context_len" => batch.ContextLen,
                _ => batch.PromptLen,
            };
            compute.CopyToDevice<int>(buffer, values);
        }

        if (program.InverseFrequencies is DeviceBuffer frequencies)
        {
            compute.CopyToDevice<float>(frequencies, inverseFrequencies);
        }
    }

    private float[] ReadLogits(StepProgram program, StepBatch batch)
    {
        int slots = checked((int)Symbols["B"]), vocab = checked((int)Symbols["vocab"]);
        int rows = program.LogitsPerSlot ? slots : program.Tokens;
        var rowsLogits = new float[(long)rows * vocab];
        compute.CopyToHost<float>(rowsLogits, program.Logits.Slice(0, (long)rows * vocab * 4));
        compute.Synchronize();
        if (program.LogitsPerSlot)
        {
            return rowsLogits;
        }

        var logits = new float[(long)slots * vocab];
        for (int slot = 0; slot < slots; slot++)
        {
            int row = batch.LastRow[slot];
            if (row >= 0 && row < rows)
            {
                Array.Copy(rowsLogits, (long)row * vocab, logits, (long)slot * vocab, vocab);
            }
        }

        return logits;
    }

    /// <summary>The device memory of buffer <paramref name="name"/> of <paramref name="phase"/> at step size T.</summary>
    private DeviceBuffer Resolve(PhasePlan phase, PlanSymbols symbols, string name, int layer)
    {
        if (name.Length == 0)
        {
            return default;
        }

        if (name.StartsWith("w.", StringComparison.Ordinal))
        {
            return memory.WeightBuffers.TryGetValue((name, WeightLayer(name, layer)), out DeviceBuffer weight)
                ? weight
                : throw new InvalidOperationException($"Weight {name} (layer {layer}) was not bound.");
        }

        BufferSpec spec = Spec(phase, name);
        long bytes = BufferBytes(spec, symbols);
        switch (spec.Lifetime)
        {
            case BufferLifetime.Cache:
                return memory.Caches!.Slice(layer * memory.CacheBlockBytes + memory.CacheOffsets[name], bytes);
            case BufferLifetime.HostCache:
                return memory.Host!.Slice(layer * memory.HostBlockBytes + memory.HostOffsets[name], bytes);
            default:
                long offset = symbols.Evaluate(spec.Offset);
                if (offset + bytes > memory.ArenaBytes)
                {
                    throw new InvalidOperationException($"Buffer {name} of {phase.Name} at T = {symbols["T"]} ends at {offset + bytes}, past the arena ({memory.ArenaBytes}).");
                }

                return memory.Arena.Slice(offset, bytes);
        }
    }

    private int WeightLayer(string name, int layer) =>
        model.Weights.FirstOrDefault(w => w.Name == name)?.PerLayer == true ? layer : -1;

    private static BufferSpec Spec(PhasePlan phase, string name) =>
        phase.Buffers.FirstOrDefault(b => b.Name == name)
        ?? throw new InvalidOperationException($"Phase {phase.Name} has no buffer '{name}'.");

    private static OpContract Contract(PlanStep step) =>
        OpContracts.All.TryGetValue(step.Op, out OpContract? contract)
            ? contract
            : throw new InvalidOperationException($"Step {step.Node} has op '{step.Op}', which has no contract.");

    private static string RoleBuffer(PlanStep step, OpContract contract, string role, bool input)
    {
        int index = input ? contract.InputIndex(role) : contract.OutputIndex(role);
        IReadOnlyList<string> names = input ? step.Inputs : step.Outputs;
        if (index < 0 || index >= names.Count)
        {
            throw new InvalidOperationException($"Step {step.Node} ({step.Op}) binds {(input ? "input" : "output")} role '{role}', which it does not have.");
        }

        return names[index];
    }

    private float Attribute(PlanStep step, string name)
    {
        string value = step.Attributes.TryGetValue(name, out string? bound) ? bound
            : throw new InvalidOperationException($"Step {step.Node} ({step.Op}) has no attribute '{name}'.");
        return value switch
        {
            "rms_eps" => (float)config.RmsNormEps,
            _ when float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out float number) => number,
            _ when Symbols.Values.ContainsKey(value) => Symbols[value],
            _ => throw new InvalidOperationException($"Attribute {name} = '{value}' of step {step.Node} is not a number or a known model constant."),
        };
    }

    private static uint Dim(PlanSymbols symbols, string expression) => checked((uint)symbols.Evaluate(expression));

    // One plan step ready to enqueue: its work on its stream, after the events it waits for, before the one it records.
    private sealed record PreparedStep(string Label, CudaStream Stream, CudaEvent[] Waits, Action Work, CudaEvent? Signal)
    {
        /// <summary>
        /// Enqueues the step. With a timer, the work alone sits between its two events: a start recorded before the
        /// waits would count the wait for the other stream as this step's time.
        /// </summary>
        public void Enqueue((CudaEvent Start, CudaEvent End)? timer = null)
        {
            foreach (CudaEvent wait in Waits)
            {
                Stream.Wait(wait);
            }

            if (timer is { } started)
            {
                Stream.Record(started.Start);
            }

            Work();
            if (timer is { } ended)
            {
                Stream.Record(ended.End);
            }

            if (Signal is not null)
            {
                Stream.Record(Signal);
            }
        }
    }

    private sealed class StepProgram(PhasePlan phase, int tokens) : IDisposable
    {
        public PhasePlan Phase { get; } = phase;

        public int Tokens { get; } = tokens;

        public List<PreparedStep> Steps { get; } = [];

        /// <summary>Per step: start and end timing events (decode profiling only; created on first use).</summary>
        public List<(CudaEvent Start, CudaEvent End)> ProfileEvents { get; } = [];

        public List<KernelArgs> Arguments { get; } = [];

        public Dictionary<string, DeviceBuffer> Metadata { get; } = new(StringComparer.Ordinal);

        public DeviceBuffer? InverseFrequencies { get; set; }

        public DeviceBuffer Logits { get; set; }

        public bool LogitsPerSlot { get; set; }

        public TimeSpan BuildTime { get; set; }

        /// <summary>The captured decode step (decode programs only, after their first step).</summary>
        public CudaGraph? Graph { get; set; }

        /// <summary>The driver refused to capture this program; it stays eager.</summary>
        public bool GraphRefused { get; set; }

        public void Dispose()
        {
            Graph?.Dispose();
            foreach ((CudaEvent start, CudaEvent end) in ProfileEvents)
            {
                start.Dispose();
                end.Dispose();
            }

            foreach (KernelArgs args in Arguments)
            {
                args.Dispose();
            }
        }
    }
}
