package dev.ferry.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** RFC 7396 JSON merge patch, checked against the RFC's own examples. */
class JsonMergePatchTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text.replace('\'', '"'));
        } catch (Exception e) {
            throw new IllegalArgumentException(text, e);
        }
    }

    private static JsonNode patch(String target, String patch) {
        return JsonMergePatch.apply(json(target), json(patch));
    }

    @Test
    void aValueInThePatchReplacesTheTargetsValue() {
        assertThat(patch("{'a':'b'}", "{'a':'c'}")).isEqualTo(json("{'a':'c'}"));
        assertThat(patch("{'a':'b'}", "{'b':'c'}")).isEqualTo(json("{'a':'b','b':'c'}"));
    }

    @Test
    void nullInThePatchRemovesTheKey() {
        assertThat(patch("{'a':'b'}", "{'a':null}")).isEqualTo(json("{}"));
        assertThat(patch("{'a':'b','b':'c'}", "{'a':null}")).isEqualTo(json("{'b':'c'}"));
    }

    @Test
    void nestedObjectsMergeKeyByKey() {
        assertThat(patch("{'a':{'b':'c','keep':1}}", "{'a':{'b':'d','c':null}}"))
                .isEqualTo(json("{'a':{'b':'d','keep':1}}"));
        assertThat(patch("{'gateway':{'port':1,'auth':{'token':'t'}}}", "{'gateway':{'port':2}}"))
                .isEqualTo(json("{'gateway':{'port':2,'auth':{'token':'t'}}}"));
    }

    @Test
    void anArrayIsReplacedWholeNeverMerged() {
        assertThat(patch("{'a':[{'b':'c'}]}", "{'a':[1]}")).isEqualTo(json("{'a':[1]}"));
        assertThat(patch("{'argv':['x','y','z']}", "{'argv':['w']}")).isEqualTo(json("{'argv':['w']}"));
    }

    @Test
    void aPatchThatIsNotAnObjectReplacesTheWholeTarget() {
        assertThat(patch("{'a':'b'}", "['c']")).isEqualTo(json("['c']"));
        assertThat(patch("{'a':'foo'}", "'bar'")).isEqualTo(json("'bar'"));
        assertThat(patch("{'a':'foo'}", "null")).isEqualTo(json("null"));
    }

    @Test
    void theTargetIsLeftUnchanged() {
        JsonNode target = json("{'a':{'b':'c'},'d':'e'}");
        JsonNode before = target.deepCopy();

        JsonNode result = JsonMergePatch.apply(target, json("{'a':{'b':null,'x':1},'d':null}"));

        assertThat(target).isEqualTo(before);
        assertThat(result).isEqualTo(json("{'a':{'x':1}}"));
    }

    @ParameterizedTest(name = "{0} + {1} = {2}")
    @MethodSource("rfc7396AppendixA")
    void everyExampleOfRfc7396AppendixAHolds(String target, String patch, String expected) {
        assertThat(patch(target, patch)).isEqualTo(json(expected));
    }

    static Stream<Arguments> rfc7396AppendixA() {
        return Stream.of(
                Arguments.of("{'a':'b'}", "{'a':'c'}", "{'a':'c'}"),
                Arguments.of("{'a':'b'}", "{'b':'c'}", "{'a':'b','b':'c'}"),
                Arguments.of("{'a':'b'}", "{'a':null}", "{}"),
                Arguments.of("{'a':'b','b':'c'}", "{'a':null}", "{'b':'c'}"),
                Arguments.of("{'a':['b']}", "{'a':'c'}", "{'a':'c'}"),
                Arguments.of("{'a':'c'}", "{'a':['b']}", "{'a':['b']}"),
                Arguments.of("{'a':{'b':'c'}}", "{'a':{'b':'d','c':null}}", "{'a':{'b':'d'}}"),
                Arguments.of("{'a':[{'b':'c'}]}", "{'a':[1]}", "{'a':[1]}"),
                Arguments.of("['a','b']", "['c','d']", "['c','d']"),
                Arguments.of("{'a':'b'}", "['c']", "['c']"),
                Arguments.of("{'a':'foo'}", "null", "null"),
                Arguments.of("{'a':'foo'}", "'bar'", "'bar'"),
                Arguments.of("{'e':null}", "{'a':1}", "{'e':null,'a':1}"),
                Arguments.of("[1,2]", "{'a':'b','c':null}", "{'a':'b'}"),
                Arguments.of("{}", "{'a':{'bb':{'ccc':null}}}", "{'a':{'bb':{}}}"));
    }
}
