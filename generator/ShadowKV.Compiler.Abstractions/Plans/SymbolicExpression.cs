using System;
using System.Collections.Generic;
using System.Globalization;

namespace ShadowKV.Compiler.Plans;

/// <summary>
/// Evaluates the plan's size expressions: integers, symbols, <c>+ - * /</c> (integer division), parentheses and
/// <c>max(a,b)</c>, <c>min(a,b)</c>, <c>ceildiv(a,b)</c>, <c>alignup(a,b)</c>. Unknown symbols are an error naming them.
/// </summary>
public static class SymbolicExpression
{
    public static long Evaluate(string expression, IReadOnlyDictionary<string, long> symbols)
    {
        var parser = new Parser(expression, symbols);
        long value = parser.ParseSum();
        parser.ExpectEnd();
        return value;
    }

    private sealed class Parser(string text, IReadOnlyDictionary<string, long> symbols)
    {
        private int _position;

        public long ParseSum()
        {
            long value = ParseProduct();
            while (TryConsume('+') || Peek('-'))
            {
                if (text[_position - 1] == '+')
                {
                    value = checked(value + ParseProduct());
                }
                else
                {
                    _position++;
                    value = checked(value - ParseProduct());
                }
            }

            return value;
        }

        public void ExpectEnd()
        {
            SkipSpaces();
            if (_position != text.Length)
            {
                throw Error($"unexpected '{text[_position]}'");
            }
        }

        private long ParseProduct()
        {
            long value = ParseFactor();
            while (true)
            {
                if (TryConsume('*'))
                {
                    value = checked(value * ParseFactor());
                }
                else if (TryConsume('/'))
                {
                    long divisor = ParseFactor();
                    if (divisor == 0)
                    {
                        throw Error("division by zero");
                    }

                    value /= divisor;
                }
                else
                {
                    return value;
                }
            }
        }

        private long ParseFactor()
        {
            SkipSpaces();
            if (TryConsume('('))
            {
                long inner = ParseSum();
                Expect(')');
                return inner;
            }

            int start = _position;
            if (_position < text.Length && char.IsDigit(text[_position]))
            {
                while (_position < text.Length && char.IsDigit(text[_position]))
                {
                    _position++;
                }

                return long.Parse(text.Substring(start, _position - start), CultureInfo.InvariantCulture);
            }

            while (_position < text.Length && (char.IsLetterOrDigit(text[_position]) || text[_position] == '_'))
            {
                _position++;
            }

            if (start == _position)
            {
                throw Error(_position < text.Length ? $"unexpected '{text[_position]}'" : "unexpected end");
            }

            string name = text.Substring(start, _position - start);
            SkipSpaces();
            if (TryConsume('('))
            {
                long a = ParseSum();
                Expect(',');
                long b = ParseSum();
                Expect(')');
                return name switch
                {
                    "max" => Math.Max(a, b),
                    "min" => Math.Min(a, b),
                    "ceildiv" => b > 0 ? (a + b - 1) / b : throw Error("ceildiv by a non-positive value"),
                    "alignup" => b > 0 ? (a + b - 1) / b * b : throw Error("alignup to a non-positive value"),
                    _ => throw Error($"unknown function '{name}'"),
                };
            }

            return symbols.TryGetValue(name, out long bound) ? bound : throw Error($"unknown symbol '{name}'");
        }

        private void Expect(char c)
        {
            if (!TryConsume(c))
            {
                throw Error($"expected '{c}'");
            }
        }

        private bool TryConsume(char c)
        {
            SkipSpaces();
            if (_position < text.Length && text[_position] == c)
            {
                _position++;
                return true;
            }

            return false;
        }

        private bool Peek(char c)
        {
            SkipSpaces();
            return _position < text.Length && text[_position] == c;
        }

        private void SkipSpaces()
        {
            while (_position < text.Length && text[_position] == ' ')
            {
                _position++;
            }
        }

        private FormatException Error(string problem) =>
            new($"Cannot evaluate size expression '{text}' at {_position}: {problem}.");
    }
}
