using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;
using ShadowKV.Compiler.Frontend;
using ShadowKV.Compiler.Ir;

namespace ShadowKV.Compiler.Generator;

/// <summary>
/// Reads a [Layer] method body through the semantic model (IOperation) into SSA <see cref="SpecOp"/>s. Supported:
/// local declarations, assignments (and <c>+=</c>) to locals and the input, one return, calls to Ops, the Tensor
/// operators + and *, weight properties of the layer parameter and <c>ctx.RmsEps</c>. Anything else is a diagnostic
/// at its exact location; the parser never throws on user code.
/// </summary>
internal sealed class BodyParser(
    IMethodSymbol layer,
    IReadOnlyDictionary<string, GraphGenerator.LayerWeight> weights,
    SemanticModel model,
    System.Action<string, Location, string[]> report)
{
    private static readonly Regex Whitespace = new(@"\s+", RegexOptions.CultureInvariant);
    private readonly List<SpecOp> _ops = new();
    private readonly Dictionary<ISymbol, string> _current = new(SymbolEqualityComparer.Default);
    private readonly HashSet<string> _names = new(System.StringComparer.Ordinal);

    // Locals whose value already failed (and was reported): reading them reports nothing more.
    private readonly HashSet<ISymbol> _failed = new(SymbolEqualityComparer.Default);
    private bool _returned;

    public (IReadOnlyList<SpecOp> Ops, string Output) Parse(MethodDeclarationSyntax method, CancellationToken cancellationToken)
    {
        IParameterSymbol input = layer.Parameters[0];
        _current[input] = input.Name;
        _names.Add(input.Name);
        SyntaxNode? body = (SyntaxNode?)method.Body ?? method.ExpressionBody;
        IOperation? operation = body is null ? null : model.GetOperation(body, cancellationToken);
        string output = string.Empty;
        if (operation is IBlockOperation block)
        {
            foreach (IOperation statement in block.Operations)
            {
                output = Statement(statement) ?? output;
            }
        }
        else if (method.ExpressionBody is { } arrow && model.GetOperation(arrow.Expression, cancellationToken) is { } expression)
        {
            _returned = true;
            output = Value(expression, "out") ?? string.Empty;
        }

        if (!_returned)
        {
            report("SKV0004", method.Identifier.GetLocation(), ["a [Layer] method without a 'return' of the block's output"]);
        }

        return (_ops, output);
    }

    private string? Statement(IOperation statement)
    {
        switch (statement)
        {
            case IVariableDeclarationGroupOperation group:
                foreach (IVariableDeclaratorOperation declarator in group.Declarations.SelectMany(d => d.Declarators))
                {
                    IOperation? initializer = declarator.Initializer?.Value ?? declarator.GetVariableInitializer()?.Value;
                    if (initializer is null)
                    {
                        Unsupported(declarator, "a declaration without an initializer");
                        continue;
                    }

                    Bind(declarator.Symbol, Value(initializer, declarator.Symbol.Name));
                }

                return null;
            case IExpressionStatementOperation { Operation: ISimpleAssignmentOperation assignment } when Target(assignment.Target) is { } target:
                Bind(target, Value(assignment.Value, target.Name));
                return null;
            case IExpressionStatementOperation { Operation: ICompoundAssignmentOperation { OperatorKind: BinaryOperatorKind.Add } compound } when Target(compound.Target) is { } target:
                string? left = Value(compound.Target, target.Name), right = Value(compound.Value, target.Name);
                Bind(target, left is null || right is null ? null : Emit(IrOps.Add, target.Name, [left, right], [], compound.Syntax));
                return null;
            case IReturnOperation { ReturnedValue: { } returned }:
                _returned = true;
                return Value(returned, "out");
            default:
                Unsupported(statement, Describe(statement));
                return null;
        }
    }

    private ISymbol? Target(IOperation target) => target switch
    {
        ILocalReferenceOperation local => local.Local,
        IParameterReferenceOperation parameter when SymbolEqualityComparer.Default.Equals(parameter.Parameter, layer.Parameters[0]) => parameter.Parameter,
        _ => null,
    };

    private void Bind(ISymbol symbol, string? value)
    {
        if (value is null)
        {
            _failed.Add(symbol);
            return;
        }

        _current[symbol] = value;
        _failed.Remove(symbol);
    }

    /// <summary>Lowers a tensor expression; returns the SSA name holding it, or null after reporting a diagnostic.</summary>
    private string? Value(IOperation operation, string hint)
    {
        switch (operation)
        {
            case IConversionOperation { IsImplicit: true } conversion:
                return Value(conversion.Operand, hint);
            case IParenthesizedOperation parenthesized:
                return Value(parenthesized.Operand, hint);
            case ILocalReferenceOperation local when _failed.Contains(local.Local):
                return null;
            case ILocalReferenceOperation local when _current.TryGetValue(local.Local, out string? name):
                return name;
            case IParameterReferenceOperation parameter when _current.TryGetValue(parameter.Parameter, out string? name):
                return name;
            case IPropertyReferenceOperation property when IsLayerWeights(property.Instance):
                if (weights.TryGetValue(property.Property.Name, out GraphGenerator.LayerWeight? weight))
                {
                    return weight.Spec.Value;
                }

                report("SKV0006", property.Syntax.GetLocation(),
                    [$"'{property.Property.Name}' has no [Weight] attribute; add [Weight(\"<checkpoint tensor name>\", <dims>)] to it so it can be loaded"]);
                return null;
            case IBinaryOperation binary:
                return Binary(binary, hint);
            case IInvocationOperation invocation:
                return Invocation(invocation, hint);
            default:
                report("SKV0008", operation.Syntax.GetLocation(), [$"'{Text(operation.Syntax)}' is not a tensor expression the compiler understands: use locals, weights of the layer parameter, Ops calls, + and *"]);
                return null;
        }
    }

    private string? Binary(IBinaryOperation binary, string hint)
    {
        string? op = binary.OperatorKind switch
        {
            BinaryOperatorKind.Add => IrOps.Add,
            BinaryOperatorKind.Multiply => IrOps.Mul,
            _ => null,
        };
        if (op is null || binary.OperatorMethod is null || !GraphGenerator.IsCompilerType(binary.OperatorMethod.ContainingType, "Tensor"))
        {
            report("SKV0008", binary.Syntax.GetLocation(), [$"operator '{binary.OperatorKind}' is not supported on tensors; only + (residual add) and * (gating) are"]);
            return null;
        }

        string name = binary.Parent is IArgumentOperation ? op : hint;
        string? left = Value(binary.LeftOperand, name), right = Value(binary.RightOperand, name);
        return left is null || right is null ? null : Emit(op, name, [left, right], [], binary.Syntax);
    }

    private string? Invocation(IInvocationOperation invocation, string hint)
    {
        IMethodSymbol method = invocation.TargetMethod;
        if (!GraphGenerator.IsCompilerType(method.ContainingType, "Ops"))
        {
            report("SKV0005", invocation.Syntax.GetLocation(), [$"{method.ContainingType.ToDisplayString()}.{method.Name}"]);
            return null;
        }

        var args = invocation.Arguments.OrderBy(a => a.Parameter?.Ordinal ?? 0).ToList();
        string? Tensor(int index, string name) => Value(args[index].Value, name);
        switch (method.Name)
        {
            case "RmsNorm":
                string? x = Tensor(0, hint), w = Tensor(1, hint), eps = Scalar(args[2].Value);
                return x is null || w is null || eps is null ? null : Emit(Plans.OpContracts.RmsNorm, hint, [x, w], [new Attr("eps", eps)], invocation.Syntax);
            case "Linear":
                string? input = Tensor(0, hint), weight = Tensor(1, hint), bias = args.Count > 2 ? Tensor(2, hint) : string.Empty;
                return input is null || weight is null || bias is null ? null : Emit(Plans.OpContracts.Linear, NestedName(invocation, hint, weight), [input, weight, bias, string.Empty], [], invocation.Syntax);
            case "Silu":
                string? gate = Tensor(0, hint);
                return gate is null ? null : Emit(IrOps.Silu, NestedName(invocation, hint, "silu"), [gate], [], invocation.Syntax);
            case "Attention":
                string? q = Tensor(0, "q"), k = Tensor(1, "k"), v = Tensor(2, "v");
                return q is null || k is null || v is null ? null : Emit(IrOps.Attention, hint, [q, k, v], [], invocation.Syntax);
            default:
                report("SKV0005", invocation.Syntax.GetLocation(), [$"Ops.{method.Name}"]);
                return null;
        }
    }

    // A nested call (not the whole right-hand side of a statement) is named after what it computes: its weight.
    private static string NestedName(IInvocationOperation invocation, string hint, string what) =>
        invocation.Parent is IArgumentOperation or IBinaryOperation or IConversionOperation ? what.Replace("w.", string.Empty) : hint;

    private string? Scalar(IOperation operation)
    {
        switch (operation)
        {
            case IConversionOperation conversion:
                return Scalar(conversion.Operand);
            case IPropertyReferenceOperation { Property.Name: "RmsEps" } property when GraphGenerator.IsCompilerType(property.Property.ContainingType, "AttentionContext"):
                return "rms_eps";
            case ILiteralOperation { ConstantValue: { HasValue: true, Value: float or double } constant }:
                return System.Convert.ToDouble(constant.Value, CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture);
            default:
                report("SKV0008", operation.Syntax.GetLocation(), [$"'{Text(operation.Syntax)}' must be ctx.RmsEps or a float literal"]);
                return null;
        }
    }

    private bool IsLayerWeights(IOperation? instance) =>
        instance is IParameterReferenceOperation parameter && SymbolEqualityComparer.Default.Equals(parameter.Parameter, layer.Parameters[1]);

    private string Emit(string op, string hint, string[] args, Attr[] attributes, SyntaxNode syntax)
    {
        string name = hint;
        for (int i = 1; !_names.Add(name); i++)
        {
            name = $"{hint}.{i}";
        }

        FileLinePositionSpan line = syntax.GetLocation().GetLineSpan();
        var origin = new SourceOrigin(Path.GetFileName(line.Path), line.StartLinePosition.Line + 1, line.StartLinePosition.Character + 1,
            Text(syntax), syntax.SpanStart, syntax.Span.Length);
        _ops.Add(new SpecOp(name, op, args, attributes, origin));
        return name;
    }

    private void Unsupported(IOperation operation, string what) => report("SKV0004", operation.Syntax.GetLocation(), [what]);

    private static string Describe(IOperation statement) => statement switch
    {
        ILoopOperation => "a loop",
        IConditionalOperation => "an 'if'",
        ISwitchOperation => "a 'switch'",
        ITryOperation => "a 'try'",
        _ => $"'{Text(statement.Syntax)}'",
    };

    private static string Text(SyntaxNode syntax) => Whitespace.Replace(syntax.ToString(), " ").Trim();
}
