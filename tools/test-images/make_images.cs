#:package SkiaSharp@4.156.1
#:package SkiaSharp.NativeAssets.Linux.NoDependencies@4.156.1
#:property ManagePackageVersionsCentrally=false

// Draws the photo-like and diagram images of the test set with SkiaSharp, deterministically (fixed seeds), into the
// folder given (tests/T5Gemma2.Rag.Tests/Assets/Images). make_variants.py then derives the modes Skia cannot write
// (grayscale, palette, CMYK, EXIF-oriented, GIF, BMP) with PIL. See README.md beside this file.
using SkiaSharp;

string outDir = args.Length > 0 ? args[0] : "tests/T5Gemma2.Rag.Tests/Assets/Images";
Directory.CreateDirectory(outDir);

Save(Photo(1, 1, 1), "rgb-1x1.png");
Save(Photo(17, 9, 2), "rgb-17x9.png");
Save(Photo(640, 480, 3), "photo-640x480.png");
Save(Diagram(300, 1200), "diagram-300x1200.png");
Save(Photo(2000, 1500, 4, grain: true), "photo-2000x1500.jpg", SKEncodedImageFormat.Jpeg, 88);
Save(Photo(512, 384, 5), "photo-512x384.webp", SKEncodedImageFormat.Webp, 80);
Save(Translucent(400, 300), "rgba-400x300.png");
// A stored-upright source for the EXIF variants: a red block in the top-left corner, so a test can tell each turn.
Save(Corner(320, 240), "corner-320x240.png");

void Save(SKBitmap bitmap, string name, SKEncodedImageFormat format = SKEncodedImageFormat.Png, int quality = 100)
{
    using (bitmap)
    using (var data = bitmap.Encode(format, quality))
    using (var file = File.Create(Path.Combine(outDir, name)))
    {
        data.SaveTo(file);
    }

    Console.WriteLine($"{name}: {new FileInfo(Path.Combine(outDir, name)).Length} bytes");
}

// Sky-to-ground gradients, soft blobs (sun, hills), a little noise on the ground: smooth like a photo, not flat.
static SKBitmap Photo(int width, int height, int seed, bool grain = false)
{
    var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
    using var canvas = new SKCanvas(bitmap);
    using (var sky = new SKPaint { Shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(0, height), [new SKColor(40, 90, 200), new SKColor(250, 200, 150), new SKColor(60, 120, 40)], [0f, 0.55f, 1f], SKShaderTileMode.Clamp) })
    {
        canvas.DrawRect(0, 0, width, height, sky);
    }

    var random = new Random(seed);
    for (int i = 0; i < 6; i++)
    {
        float cx = (float)random.NextDouble() * width, cy = (float)random.NextDouble() * height, r = (float)(0.1 + (0.3 * random.NextDouble())) * Math.Max(width, height);
        var colour = new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256), 170);
        using var blob = new SKPaint { IsAntialias = true, Shader = SKShader.CreateRadialGradient(new SKPoint(cx, cy), r, [colour, colour.WithAlpha(0)], SKShaderTileMode.Clamp) };
        canvas.DrawCircle(cx, cy, r, blob);
    }

    canvas.Flush();
    // Grain on the lower quarter of the large photo only: upscaled grain makes the committed references large.
    for (int y = grain ? height * 3 / 4 : height; y < height; y++)
    {
        for (int x = 0; x < width; x++)
        {
            var c = bitmap.GetPixel(x, y);
            int n = random.Next(-6, 7);
            bitmap.SetPixel(x, y, new SKColor(Clamp(c.Red + n), Clamp(c.Green + n), Clamp(c.Blue + n)));
        }
    }

    return bitmap;
}

// Boxes, arrows and labels on white: sharp edges and text, as in a slide or a scanned figure.
static SKBitmap Diagram(int width, int height)
{
    var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
    using var canvas = new SKCanvas(bitmap);
    canvas.Clear(SKColors.White);
    using var box = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = 4, Color = new SKColor(20, 60, 140) };
    using var fill = new SKPaint { IsAntialias = true, Color = new SKColor(255, 220, 120) };
    using var ink = new SKPaint { IsAntialias = true, Color = SKColors.Black };
    using var font = new SKFont(SKTypeface.Default, 28);
    string[] labels = ["load", "decode", "resize", "normalise", "encode"];
    for (int i = 0; i < labels.Length; i++)
    {
        float top = 40 + (i * 230);
        var rect = new SKRect(30, top, width - 30, top + 150);
        canvas.DrawRoundRect(rect, 18, 18, fill);
        canvas.DrawRoundRect(rect, 18, 18, box);
        canvas.DrawText(labels[i], 60, top + 90, SKTextAlign.Left, font, ink);
        if (i + 1 < labels.Length)
        {
            canvas.DrawLine(width / 2f, top + 150, width / 2f, top + 230, box);
            canvas.DrawLine(width / 2f, top + 230, (width / 2f) - 15, top + 205, box);
            canvas.DrawLine(width / 2f, top + 230, (width / 2f) + 15, top + 205, box);
        }
    }

    return bitmap;
}

// Colour under every alpha from 0 to 255: a left-to-right alpha ramp over a hue pattern, and a fully transparent
// band whose colour is not black, so compositing or premultiplying shows up as a difference.
static SKBitmap Translucent(int width, int height)
{
    var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
    for (int y = 0; y < height; y++)
    {
        for (int x = 0; x < width; x++)
        {
            byte alpha = y < height / 5 ? (byte)0 : (byte)(255 * x / (width - 1));
            bitmap.SetPixel(x, y, new SKColor((byte)(x * 255 / width), (byte)(y * 255 / height), (byte)((x + y) % 256), alpha));
        }
    }

    return bitmap;
}

static SKBitmap Corner(int width, int height)
{
    var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
    using var canvas = new SKCanvas(bitmap);
    canvas.Clear(new SKColor(30, 30, 200));
    using var red = new SKPaint { Color = new SKColor(230, 20, 20) };
    canvas.DrawRect(0, 0, width / 4f, height / 4f, red);
    return bitmap;
}

static byte Clamp(int v) => (byte)Math.Clamp(v, 0, 255);
