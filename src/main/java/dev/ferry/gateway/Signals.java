package dev.ferry.gateway;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Installs POSIX signal handlers through {@code sun.misc.Signal}, reached by reflection: a direct
 * reference makes javac print an internal-API warning that no flag silences. Handlers run on the
 * JVM's signal thread and must hand real work to another thread.
 */
public final class Signals {
    private static final Logger log = LoggerFactory.getLogger(Signals.class);

    private Signals() {}

    /** Runs {@code handler} each time the process receives {@code name} (e.g. "USR1", "TERM"). False if the platform refuses. */
    public static boolean handle(String name, Runnable handler) {
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerInterface = Class.forName("sun.misc.SignalHandler");
            Constructor<?> newSignal = signalClass.getConstructor(String.class);
            Object signal = newSignal.newInstance(name);
            InvocationHandler dispatch = (proxy, method, args) -> dispatch(proxy, method, args, handler, name);
            Object proxy = Proxy.newProxyInstance(Signals.class.getClassLoader(), new Class<?>[] {handlerInterface}, dispatch);
            signalClass.getMethod("handle", signalClass, handlerInterface).invoke(null, signal, proxy);
            return true;
        } catch (ReflectiveOperationException | IllegalArgumentException e) {
            log.warn("cannot handle signal SIG{}: {}", name, e.getCause() != null ? e.getCause().getMessage() : e.toString());
            return false;
        }
    }

    private static Object dispatch(Object proxy, Method method, Object[] args, Runnable handler, String name) {
        switch (method.getName()) {
            case "handle" -> handler.run();
            case "toString" -> {
                return "Signals.handler(SIG" + name + ")";
            }
            case "hashCode" -> {
                return System.identityHashCode(proxy);
            }
            case "equals" -> {
                return proxy == args[0];
            }
            default -> {
                return null;
            }
        }
        return null;
    }
}
