package dev.ferry.control;

/** An RPC refused for a reason the caller can act on; its code and message go back in the response. */
public final class RpcException extends RuntimeException {

    private final String code;
    private final int httpStatus;

    public RpcException(String code, int httpStatus, String message) {
        super(message, null, false, false);
        this.code = code;
        this.httpStatus = httpStatus;
    }

    public static RpcException invalidParams(String message) {
        return new RpcException("INVALID_PARAMS", 400, message);
    }

    public String code() {
        return code;
    }

    public int httpStatus() {
        return httpStatus;
    }
}
