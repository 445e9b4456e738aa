/* The products' epilogues (op_params.h, DSVK_EPILOGUE_*): what a product
 * does with its result at an element of y. Use: declare the output array
 * as `y` (read-write) and include this after it. */
float silu(float g)
{
    return g / (1.0 + exp(-g));
}

void epilogue_store(uint mode, uint o, float v)
{
    if (mode == DSVK_EPILOGUE_ADD)
        v += y[o];
    else if (mode == DSVK_EPILOGUE_GATE)
        v *= silu(y[o]);
    y[o] = v;
}
