package dev.ferry.intake;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StrictJsonTest {

    private static StrictJson.Read read(String json) {
        return StrictJson.read(json.getBytes(StandardCharsets.UTF_8));
    }

    private static String refusal(String json) {
        StrictJson.Read read = read(json);
        assertThat(read.ok()).as("refused: %s", json).isFalse();
        assertThat(read.value()).isNull();
        return read.error();
    }

    @Test
    void readsAStrictDocumentWhateverItsNestingAndTrailingWhitespace() {
        StrictJson.Read read = read("{\"a\":[1,{\"b\":\"caf\u00e9 \\ud83d\\ude00\"}],\"c\":null} \r\n\t");

        assertThat(read.ok()).isTrue();
        assertThat(read.error()).isNull();
        assertThat(read.value().at("/a/1/b").asText()).isEqualTo("caf\u00e9 \ud83d\ude00");
    }

    @Test
    void loneLowSurrogateEscapeIsRefusedNamingTheFieldPath() {
        assertThat(refusal("{\"messageId\":\"ls-\\udc00\"}"))
                .isEqualTo("body: not valid Unicode at messageId: unpaired surrogate U+DC00");
        assertThat(refusal("{\"media\":[{\"url\":\"ok\"},{\"url\":\"x\\udfff\"}]}"))
                .isEqualTo("body: not valid Unicode at media[1].url: unpaired surrogate U+DFFF");
        assertThat(refusal("{\"params\":{\"raw\":{\"gateway\":{\"auth\":{\"token\":\"\\udc00\"}}}}}"))
                .isEqualTo("body: not valid Unicode at params.raw.gateway.auth.token: unpaired surrogate U+DC00");
    }

    @Test
    void highSurrogateWithoutItsLowHalfIsRefused() {
        assertThat(refusal("{\"text\":\"a\\ud800b\"}")).contains("at text: unpaired surrogate U+D800");
        assertThat(refusal("{\"text\":\"a\\ud800\"}")).contains("at text: unpaired surrogate U+D800");
        assertThat(refusal("{\"text\":\"\\ud800\\ud800\\udc00\"}")).contains("at text: unpaired surrogate U+D800");
        assertThat(refusal("[\"\\udc00\\ud800\"]")).contains("at [0]: unpaired surrogate U+DC00");
        assertThat(refusal("\"\\udc00\"")).isEqualTo("body: not valid Unicode at the top level: unpaired surrogate U+DC00");
    }

    @Test
    void loneSurrogateInAKeyIsRefusedNamingTheObjectThatHoldsIt() {
        assertThat(refusal("{\"\\udc00\":1}")).isEqualTo("body: not valid JSON: Unexpected low surrogate in field name: 0xdc00");
        assertThat(refusal("{\"params\":{\"ok\":1,\"k\\ud800\":1}}"))
                .startsWith("body: not valid JSON at params: Broken surrogate pair in field name");
        assertThat(refusal("{\"a\":[{\"\\ud800\\ud800\":1}]}"))
                .startsWith("body: not valid JSON at a[0]: Broken surrogate pair in field name");
    }

    @Test
    void refusalNeverRepeatsTheStringItRefuses() {
        assertThat(refusal("{\"token\":\"hunter2-secret\\udc00\"}")).doesNotContain("hunter2");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"FF", "C3 28", "C0 80", "ED A0 80", "F4 90 80 80", "E2 82"})
    void invalidUtf8BytesInAStringAreRefused(String hex) {
        StrictJson.Read read = StrictJson.read(bytes("{\"sender\":\"a", hex, "\"}"));

        assertThat(read.ok()).isFalse();
        assertThat(read.error()).startsWith("body: not valid JSON at sender: Invalid UTF-8");
    }

    @Test
    void invalidUtf8BytesInAKeyAreRefused() {
        assertThat(StrictJson.read(bytes("{\"", "ED A0 80", "\":1}")).error()).contains("Invalid UTF-8");
        assertThat(StrictJson.read(bytes("{\"", "FF", "\":1}")).error()).contains("Invalid UTF-8");
    }

    @Test
    void utf16AndUtf32BodiesAreRefusedThoughJacksonCouldDecodeThem() {
        byte[] utf16 = "{\"a\":\"b\"}".getBytes(StandardCharsets.UTF_16LE);
        byte[] utf16WithMark = "{\"a\":\"b\"}".getBytes(StandardCharsets.UTF_16);
        byte[] utf32 = "{\"a\":\"b\"}".getBytes(java.nio.charset.Charset.forName("UTF-32BE"));

        for (byte[] body : new byte[][] {utf16, utf16WithMark, utf32}) {
            assertThat(StrictJson.read(body).error()).isEqualTo("body: not UTF-8 (it looks like UTF-16 or UTF-32)");
        }
        assertThat(StrictJson.read(bytes("EF BB BF", "{\"a\":1}")).ok()).as("a UTF-8 byte order mark is fine").isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"{\"a\":1} junk", "{\"a\":1}{\"a\":2}", "{\"a\":1} {}", "{\"a\":1}]", "[1] 2", "{\"a\":1},",
            "{\"a\":1} \"x\"", "1 2"})
    void dataAfterTheValueIsRefused(String json) {
        assertThat(refusal(json)).isEqualTo("body: not valid JSON: more data after the JSON value");
    }

    @Test
    void duplicateKeyIsRefusedNamingIt() {
        assertThat(refusal("{\"messageId\":\"a\",\"text\":\"x\",\"messageId\":\"b\"}"))
                .isEqualTo("body: not valid JSON: Duplicate field 'messageId'");
        assertThat(refusal("{\"media\":[{\"url\":\"a\",\"url\":\"b\"}]}"))
                .isEqualTo("body: not valid JSON at media[0]: Duplicate field 'url'");
    }

    @Test
    void emptyAndMalformedBodiesAreRefused() {
        assertThat(refusal("")).isEqualTo("body: empty; expected a JSON value");
        assertThat(refusal("   ")).isEqualTo("body: empty; expected a JSON value");
        assertThat(refusal("{\"a\":")).startsWith("body: not valid JSON");
        assertThat(refusal("{'a':1}")).startsWith("body: not valid JSON");
        assertThat(refusal("{\"a\":NaN}")).startsWith("body: not valid JSON");
    }

    /** Text with raw bytes in the middle, given in hex. */
    private static byte[] bytes(String before, String hex, String after) {
        var out = new java.io.ByteArrayOutputStream();
        out.writeBytes(before.getBytes(StandardCharsets.UTF_8));
        for (String pair : hex.split(" ")) {
            out.write(Integer.parseInt(pair, 16));
        }
        out.writeBytes(after.getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    private static byte[] bytes(String hex, String after) {
        return bytes("", hex, after);
    }
}
